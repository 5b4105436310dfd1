package dev.sluice.runtime.dashboard;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.ClusterState;
import dev.sluice.runtime.rpc.RpcFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's web dashboard, served by the head (DESIGN "Dashboard"): pages for the cluster's
 * nodes and resources, workers, tasks, live streams and object store usage over time, updated once
 * a second by server-sent events, and each worker's and node's log, read through the node manager
 * that holds it ({@link LogsApi}). Every request needs the cluster token ({@link DashboardAuth}).
 * It owns the HTTP server (the JDK's), the {@link SnapshotSampler}, the {@link NodeLogClient}'s
 * channels and the state source it reads, and closes them all.
 *
 * <p>Threads: each request runs on a virtual thread of its own (an open event stream keeps one);
 * the sampler has one platform thread.
 */
public final class DashboardServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DashboardServer.class);

  private final HttpServer http;
  private final ExecutorService requests;
  private final SnapshotSampler sampler;
  private final NodeLogClient logs;
  private final AutoCloseable source;

  private DashboardServer(
      HttpServer http,
      ExecutorService requests,
      SnapshotSampler sampler,
      NodeLogClient logs,
      AutoCloseable source) {
    this.http = http;
    this.requests = requests;
    this.sampler = sampler;
    this.logs = logs;
    this.source = source;
  }

  /**
   * Starts the dashboard at {@code bindHost:port} (0 picks a free port).
   *
   * @param token the cluster token every request must carry
   * @param state what the pages show
   * @param rpc how to reach the node managers whose logs the Logs page shows
   * @param source what {@code state} needs closed once the dashboard stops (closed also when it
   *     cannot start)
   * @throws IOException if the address cannot be bound
   */
  public static DashboardServer start(
      String bindHost,
      int port,
      String token,
      ClusterState state,
      RpcFactory rpc,
      AutoCloseable source)
      throws IOException {
    HttpServer http;
    try {
      http = HttpServer.create(new InetSocketAddress(bindHost, port), 64);
    } catch (IOException e) {
      closeQuietly(source);
      throw new IOException(
          "the dashboard cannot listen on " + bindHost + ":" + port + ": " + e.getMessage(), e);
    }
    ExecutorService requests =
        Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("sluice-dashboard-request-", 0).factory());
    http.setExecutor(requests);
    SnapshotSampler sampler = new SnapshotSampler(state);
    DashboardAuth auth = new DashboardAuth(token);
    EventStream events = new EventStream(sampler);
    NodeLogClient logs = new NodeLogClient(rpc);
    LogsApi logsApi = new LogsApi(new LogLocator(state, logs), logs);
    for (HttpContext c :
        new HttpContext[] {
          http.createContext("/", new StaticFiles()),
          http.createContext("/api/events", events),
          http.createContext("/api/snapshot", events),
          http.createContext("/api/logs", logsApi),
          http.createContext("/api/log", logsApi)
        }) {
      c.getFilters().add(auth);
    }
    http.start();
    DashboardServer d = new DashboardServer(http, requests, sampler, logs, source);
    log.info("dashboard listening on {}", d.url());
    return d;
  }

  /** The port it listens on. */
  public int port() {
    return http.getAddress().getPort();
  }

  /** Its address, {@code http://host:port/} (without the token). */
  public String url() {
    InetSocketAddress a = http.getAddress();
    String host = a.getHostString();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + a.getPort() + "/";
  }

  /** Headers every page and answer carries: no framing, no sniffing, scripts from here only. */
  static void securityHeaders(HttpExchange ex) {
    ex.getResponseHeaders()
        .add(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
                + " frame-ancestors 'none'");
    ex.getResponseHeaders().add("X-Content-Type-Options", "nosniff");
    ex.getResponseHeaders().add("X-Frame-Options", "DENY");
    ex.getResponseHeaders().add("Referrer-Policy", "no-referrer");
  }

  @Override
  public void close() {
    sampler.close();
    http.stop(0);
    requests.shutdownNow();
    logs.close();
    closeQuietly(source);
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      log.debug("closing the dashboard's state source failed", e);
    }
  }
}
