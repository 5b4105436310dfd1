package dev.sluice.runtime.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * {@code /api/events}: the dashboard's live updates as server-sent events, one {@code snapshot}
 * event (a {@link SnapshotJson} document) each time the {@link SnapshotSampler} publishes, and a
 * comment line when none came for a while (so proxies and the browser keep the connection). {@code
 * /api/snapshot} answers the latest snapshot once. Each open stream holds one request thread (a
 * virtual thread) until the browser goes away or the server stops.
 */
final class EventStream implements HttpHandler {
  private static final Duration WAIT = Duration.ofSeconds(15);

  private final SnapshotSampler sampler;

  EventStream(SnapshotSampler sampler) {
    this.sampler = sampler;
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try (ex) {
      DashboardServer.securityHeaders(ex);
      ex.getResponseHeaders().add("Cache-Control", "no-store");
      if (ex.getRequestURI().getPath().equals("/api/snapshot")) {
        once(ex);
      } else {
        stream(ex);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void once(HttpExchange ex) throws IOException, InterruptedException {
    SnapshotSampler.Snapshot s = sampler.latest(WAIT);
    if (s == null || s.json() == null) {
      ex.sendResponseHeaders(503, -1);
      return;
    }
    byte[] body = s.json().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(200, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  private void stream(HttpExchange ex) throws IOException, InterruptedException {
    ex.getResponseHeaders().add("Content-Type", "text/event-stream; charset=utf-8");
    ex.getResponseHeaders().add("X-Accel-Buffering", "no");
    ex.sendResponseHeaders(200, 0);
    try (OutputStream out = ex.getResponseBody()) {
      out.write("retry: 2000\n\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      long seq = 0;
      while (true) {
        SnapshotSampler.Snapshot s = sampler.after(seq, WAIT);
        if (s == null) {
          return;
        }
        if (s.seq() == seq || s.json() == null) {
          out.write(": idle\n\n".getBytes(StandardCharsets.UTF_8));
        } else {
          seq = s.seq();
          out.write(
              ("event: snapshot\nid: " + seq + "\ndata: " + s.json() + "\n\n")
                  .getBytes(StandardCharsets.UTF_8));
        }
        out.flush();
      }
    }
    // an IOException here is the browser going away: the thread ends with it
  }
}
