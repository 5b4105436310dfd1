package dev.sluice.runtime.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one process's {@link SluiceMetrics} in Prometheus text format at {@code GET /metrics} over
 * plain HTTP. Read-only: it answers {@code GET} and {@code HEAD} of {@code /metrics} and nothing
 * else, and needs no token (a Prometheus server scrapes it); it binds to the host it is given,
 * which is loopback unless the daemon's other ports bind wider.
 *
 * <p>Threads: one platform thread serves the requests, one at a time; a scrape reads gauge sources
 * (e.g. the store's usage, under its lock) on it.
 */
public final class MetricsServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);

  /** The path served. */
  public static final String PATH = "/metrics";

  /** The content type of the text format. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;
  private final String host;

  private MetricsServer(HttpServer server, ExecutorService executor, String host) {
    this.server = server;
    this.executor = executor;
    this.host = host;
  }

  /**
   * Starts serving {@code metrics} at {@code bindHost:port} (0 picks a free port).
   *
   * @throws IOException if the port cannot be bound
   */
  public static MetricsServer start(SluiceMetrics metrics, String bindHost, int port)
      throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(bindHost, port), 16);
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("sluice-metrics-http").factory());
    server.setExecutor(executor);
    server.createContext(PATH, exchange -> serve(metrics, exchange));
    server.start();
    MetricsServer s = new MetricsServer(server, executor, bindHost);
    log.info("metrics served at {}", s.url());
    return s;
  }

  private static void serve(SluiceMetrics metrics, HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      if (!exchange.getRequestURI().getPath().equals(PATH)) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(200, -1);
        return;
      }
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    } catch (RuntimeException e) {
      log.warn("metrics scrape failed: {}", e.toString());
    }
  }

  /** The port it listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code host:port}. */
  public String address() {
    return host + ":" + port();
  }

  /** The URL to scrape. */
  public String url() {
    return "http://" + address() + PATH;
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
