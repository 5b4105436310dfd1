package dev.sluice.runtime.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ActorState;
import dev.sluice.ClusterState;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.NodeState;
import dev.sluice.ObjectId;
import dev.sluice.ObjectState;
import dev.sluice.StateQuery;
import dev.sluice.StreamState;
import dev.sluice.TaskId;
import dev.sluice.TaskState;
import dev.sluice.TaskSummary;
import dev.sluice.WorkerState;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The dashboard's server on its own, over a fake cluster state: the token rule, the pages and
 * library files it serves, and the snapshots it streams.
 */
@Timeout(60)
class DashboardServerTest {
  private static final String TOKEN = "test-token-123";

  private final FakeState state = new FakeState();
  private final AtomicBoolean sourceClosed = new AtomicBoolean();
  private DashboardServer server;
  private final HttpClient http =
      HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

  @BeforeEach
  void start() throws IOException {
    server = DashboardServer.start("127.0.0.1", 0, TOKEN, state, () -> sourceClosed.set(true));
  }

  @AfterEach
  void stop() {
    server.close();
    http.close();
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path.substring(1)));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void everyPathRefusesRequestsWithoutTheToken() throws Exception {
    // Rule: token required (401 otherwise), on pages, library files and the data alike.
    for (String path :
        List.of(
            "/",
            "/static/dashboard.js",
            "/lib/uPlot.iife.min.js",
            "/api/snapshot",
            "/api/events")) {
      HttpResponse<String> r = get(path);
      assertThat(r.statusCode()).as(path).isEqualTo(401);
      assertThat(r.body()).as(path).contains("token required").doesNotContain(TOKEN);
    }
    assertThat(get("/api/snapshot", "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
    assertThat(get("/?token=wrong").statusCode()).isEqualTo(401);
    assertThat(get("/", "Cookie", DashboardAuth.COOKIE + "=" + TOKEN).statusCode())
        .as("the cookie holds a digest, not the token")
        .isEqualTo(401);
  }

  @Test
  void theTokenInTheAddressSetsAStrictHttpOnlyCookieAndLeavesTheAddress() throws Exception {
    HttpResponse<String> r = get("/?token=" + TOKEN);
    assertThat(r.statusCode()).isEqualTo(303);
    assertThat(r.headers().firstValue("Location")).contains("/");
    String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict").doesNotContain(TOKEN);
    String pair = cookie.substring(0, cookie.indexOf(';'));

    HttpResponse<String> page = get("/", "Cookie", pair);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("<title>Sluice dashboard</title>");
    assertThat(page.headers().firstValue("Content-Security-Policy"))
        .hasValueSatisfying(v -> assertThat(v).contains("default-src 'self'"));
  }

  @Test
  void servesThePagesAndTheUplotWebJar() throws Exception {
    String bearer = "Bearer " + TOKEN;
    HttpResponse<String> lib = get("/lib/uPlot.iife.min.js", "Authorization", bearer);
    assertThat(lib.statusCode()).isEqualTo(200);
    assertThat(lib.headers().firstValue("Content-Type")).contains("text/javascript; charset=utf-8");
    assertThat(lib.body()).contains("uPlot");
    assertThat(get("/lib/uPlot.min.css", "Authorization", bearer).statusCode()).isEqualTo(200);
    assertThat(get("/static/dashboard.js", "Authorization", bearer).body()).contains("EventSource");
    assertThat(get("/static/..%2Fdashboard.js", "Authorization", bearer).statusCode())
        .isEqualTo(404);
    assertThat(get("/static/nothing.js", "Authorization", bearer).statusCode()).isEqualTo(404);
  }

  @Test
  void streamsAJsonSnapshotEverySecondWithTheStreamsRates() throws Exception {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(server.url() + "api/events"))
            .header("Authorization", "Bearer " + TOKEN)
            .build();
    HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).contains("text/event-stream; charset=utf-8");
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      List<String> data = new ArrayList<>();
      String line;
      while (data.size() < 2 && (line = in.readLine()) != null) {
        if (line.startsWith("data: ")) {
          data.add(line.substring(6));
        }
      }
      assertThat(data).hasSize(2);
      String last = data.getLast();
      assertThat(last)
          .contains("\"function\":\"Demo.numbers\"")
          .contains("\"producedPerSecond\":2.5")
          .contains("\"lag\":3")
          .contains("\"nodesAlive\":1")
          .contains("\"storeUsed\":1024");
      // Rule: a stream whose stalled time grows is shown stalled now.
      assertThat(last).contains("\"stalledNow\":true");
      assertThat(last).contains("\"storeHistory\":[[");
    }
  }

  @Test
  void closingStopsTheServerAndClosesTheStateSource() throws Exception {
    server.close();
    assertThat(sourceClosed).isTrue();
    try {
      get("/");
      throw new AssertionError("the closed dashboard still answered");
    } catch (IOException expected) {
      // connection refused
    }
  }

  /** One node and one stream whose counters and stalled time grow at each read. */
  private static final class FakeState implements ClusterState {
    private final NodeId node = NodeId.random();
    private final AtomicLong reads = new AtomicLong();

    @Override
    public List<NodeState> nodes(StateQuery query) {
      return List.of(
          new NodeState(
              node,
              "ALIVE",
              true,
              "127.0.0.1:1",
              1,
              Map.of("CPU", 2.0),
              Map.of("CPU", 1.0),
              1,
              1 << 20,
              1024,
              1,
              0,
              null));
    }

    @Override
    public List<StreamState> streams(StateQuery query) {
      long n = reads.incrementAndGet();
      TaskId task = TaskId.forChild(TaskId.forDriver(JobId.of(1)), 1);
      return List.of(
          new StreamState(
              ObjectId.of(task, 1),
              task,
              "Demo.numbers",
              "RUNNING",
              null,
              null,
              10 * n + 3,
              10 * n,
              3,
              8,
              0.5 * n,
              2.5,
              2.0));
    }

    @Override
    public List<WorkerState> workers(StateQuery query) {
      return List.of();
    }

    @Override
    public List<TaskState> tasks(StateQuery query) {
      return List.of();
    }

    @Override
    public List<ObjectState> objects(StateQuery query) {
      return List.of();
    }

    @Override
    public List<ActorState> actors(StateQuery query) {
      return List.of();
    }

    @Override
    public TaskSummary summarizeTasks() {
      return new TaskSummary(Map.of(), 0, 0);
    }

    @Override
    public void timeline(Path file) {}
  }
}
