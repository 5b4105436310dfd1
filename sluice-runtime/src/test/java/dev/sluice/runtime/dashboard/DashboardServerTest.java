package dev.sluice.runtime.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

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
import dev.sluice.WorkerId;
import dev.sluice.WorkerState;
import dev.sluice.runtime.logging.LogFileNames;
import dev.sluice.runtime.logging.LogFiles;
import dev.sluice.runtime.node.LogReadStream;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.proto.ListLogsReply;
import dev.sluice.runtime.rpc.proto.ListLogsRequest;
import dev.sluice.runtime.rpc.proto.LogChunk;
import dev.sluice.runtime.rpc.proto.LogFileInfo;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ReadLogRequest;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's server on its own, over a fake cluster state: the token rule, the pages and
 * library files it serves, the snapshots it streams, and the logs it reads through a node manager's
 * log service (the real {@link LogReadStream} over an in-process gRPC server, on a logs directory
 * of the test's).
 */
@Timeout(60)
class DashboardServerTest {
  private static final String TOKEN = "test-token-123";

  @TempDir Path session;

  private final RpcFactory rpc = new RpcFactory(4 << 20, RpcSecurity.token("cluster-token-456"));
  private final String nodeTarget = RpcFactory.IN_PROCESS_PREFIX + "dash-node-" + UUID.randomUUID();
  private final FakeState state = new FakeState(nodeTarget);
  private final AtomicBoolean sourceClosed = new AtomicBoolean();
  private Path logsDir;
  private Server node;
  private DashboardServer server;
  private final HttpClient http =
      HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

  @BeforeEach
  void start() throws IOException {
    logsDir = Files.createDirectories(LogFileNames.logsDir(session));
    node = rpc.startServer(nodeTarget, 0, List.of(new NodeLogService(logsDir)));
    server = DashboardServer.start("127.0.0.1", 0, TOKEN, state, rpc, () -> sourceClosed.set(true));
  }

  @AfterEach
  void stop() {
    server.close();
    http.close();
    RpcFactory.shutdownQuietly(node);
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
            "/api/events",
            "/api/logs",
            "/api/log?daemon",
            "/api/log?worker=" + state.worker.hex())) {
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

  private HttpResponse<String> api(String pathAndQuery) throws Exception {
    return get(pathAndQuery, "Authorization", "Bearer " + TOKEN);
  }

  private static long longField(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":(-?\\d+)").matcher(json);
    assertThat(m.find()).as(name + " in " + json).isTrue();
    return Long.parseLong(m.group(1));
  }

  /** A JSON string field's value (of a document written by StateJson: simple escapes only). */
  private static String textField(String json, String name) {
    String key = "\"" + name + "\":\"";
    int at = json.indexOf(key);
    assertThat(at).as(name + " in " + json).isNotNegative();
    StringBuilder b = new StringBuilder();
    for (int i = at + key.length(); ; i++) {
      char c = json.charAt(i);
      if (c == '"') {
        return b.toString();
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      char e = json.charAt(++i);
      switch (e) {
        case 'n' -> b.append('\n');
        case 't' -> b.append('\t');
        case 'r' -> b.append('\r');
        case 'u' -> {
          b.append((char) Integer.parseInt(json.substring(i + 1, i + 5), 16));
          i += 4;
        }
        default -> b.append(e);
      }
    }
  }

  private Path workerLog() {
    return logsDir.resolve(LogFileNames.workerLog(state.worker.hex(), FakeState.WORKER_PID));
  }

  @Test
  void readsAWorkersLogFromItsLastLinesThenFromTheOffsetItGaveThroughTheNodeManager()
      throws Exception {
    Files.writeString(workerLog(), "one\ntwo <b>bold</b> & co\nthree\n");
    Files.writeString(logsDir.resolve("node.log"), "daemon line\n");

    // Rule: /api/logs lists each live node's files with the worker each belongs to.
    HttpResponse<String> list = api("/api/logs");
    assertThat(list.statusCode()).as(list.body()).isEqualTo(200);
    assertThat(list.body())
        .contains("\"id\":\"" + state.node.hex() + "\"")
        .contains("\"name\":\"" + workerLog().getFileName() + "\"")
        .contains("\"worker\":\"" + state.worker.hex().substring(0, 12) + "\"")
        .contains("\"name\":\"node.log\"");

    HttpResponse<String> tail = api("/api/log?worker=" + state.worker.hex() + "&tail=2");
    assertThat(tail.statusCode()).as(tail.body()).isEqualTo(200);
    assertThat(tail.headers().firstValue("Content-Type")).contains("application/json");
    assertThat(textField(tail.body(), "text")).isEqualTo("two <b>bold</b> & co\nthree\n");
    // Rule: log text is sent HTML-safe (markup characters escaped), whatever the file holds.
    assertThat(tail.body()).doesNotContain("<b>").contains("\\u003cb\\u003e");
    assertThat(textField(tail.body(), "node")).isEqualTo(state.node.hex());
    assertThat(textField(tail.body(), "worker")).isEqualTo(state.worker.hex());
    long next = longField(tail.body(), "next");
    assertThat(next).isEqualTo(Files.size(workerLog()));

    // A poll from that offset gets nothing, then exactly what was appended.
    HttpResponse<String> idle = api("/api/log?worker=" + state.worker.hex() + "&offset=" + next);
    assertThat(textField(idle.body(), "text")).isEmpty();
    assertThat(longField(idle.body(), "next")).isEqualTo(next);
    Files.writeString(workerLog(), "four\n", StandardOpenOption.APPEND);
    HttpResponse<String> poll =
        api("/api/log?worker=" + state.worker.hex().substring(0, 8) + "&offset=" + next);
    assertThat(poll.statusCode()).as(poll.body()).isEqualTo(200);
    assertThat(textField(poll.body(), "text")).isEqualTo("four\n");
    assertThat(longField(poll.body(), "offset")).isEqualTo(next);
    assertThat(longField(poll.body(), "next")).isEqualTo(next + 5);

    HttpResponse<String> daemon = api("/api/log?daemon&node=" + state.node.hex().substring(0, 6));
    assertThat(textField(daemon.body(), "text")).isEqualTo("daemon line\n");

    // Rule: an offset past the file's end (it was rotated or truncated) reads from its start.
    Files.writeString(workerLog(), "new file\n");
    HttpResponse<String> rotated =
        api("/api/log?worker=" + state.worker.hex() + "&offset=" + (next + 5));
    assertThat(longField(rotated.body(), "offset")).isZero();
    assertThat(textField(rotated.body(), "text")).isEqualTo("new file\n");
    assertThat(longField(rotated.body(), "next")).isEqualTo(9);
  }

  @Test
  void aLogLargerThanOneAnswerComesInBoundedPiecesOfWholeCharacters() throws Exception {
    String line = "0123456789 é ".repeat(7) + "\n"; // 99 bytes, with 2-byte characters
    Files.writeString(workerLog(), line.repeat(6000)); // about 580 KiB
    long size = Files.size(workerLog());

    // Rule: an answer holds at most LogsApi.MAX_BYTES of the log; "more" says to ask again.
    HttpResponse<String> first = api("/api/log?worker=" + state.worker.hex() + "&offset=0");
    String text = textField(first.body(), "text");
    long next = longField(first.body(), "next");
    assertThat(next).isPositive().isLessThanOrEqualTo(LogsApi.MAX_BYTES);
    assertThat(text.getBytes(StandardCharsets.UTF_8)).hasSize((int) next);
    assertThat(first.body()).contains("\"more\":true");
    StringBuilder all = new StringBuilder(text);
    while (next < size) {
      HttpResponse<String> r = api("/api/log?worker=" + state.worker.hex() + "&offset=" + next);
      all.append(textField(r.body(), "text"));
      long n = longField(r.body(), "next");
      assertThat(n).as("each poll makes progress").isGreaterThan(next);
      next = n;
    }
    assertThat(all.toString()).isEqualTo(line.repeat(6000));

    // A tail longer than one answer starts at a line that fits.
    HttpResponse<String> tail = api("/api/log?worker=" + state.worker.hex() + "&tail=100000");
    String tailText = textField(tail.body(), "text");
    assertThat(tailText.getBytes(StandardCharsets.UTF_8).length)
        .isLessThanOrEqualTo(LogsApi.MAX_BYTES);
    assertThat(tailText).startsWith(line).endsWith(line);
    assertThat(longField(tail.body(), "next")).isEqualTo(size);
  }

  @Test
  void anUnknownWorkerIsNotFoundWithAMessageThatNamesIt() throws Exception {
    HttpResponse<String> r = api("/api/log?worker=ffff0000ffff");
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(textField(r.body(), "error"))
        .isEqualTo("no worker ffff0000ffff in the cluster (the Workers page lists them)");

    // A worker the cluster knows that has no log file (yet) on its node.
    HttpResponse<String> noFile = api("/api/log?worker=" + state.worker.hex());
    assertThat(noFile.statusCode()).isEqualTo(404);
    assertThat(textField(noFile.body(), "error"))
        .isEqualTo(
            "no log of worker " + state.worker.hex() + " on node " + state.node.hex() + " (yet)");

    HttpResponse<String> noNode = api("/api/log?daemon&node=abcdef");
    assertThat(noNode.statusCode()).isEqualTo(404);
    assertThat(textField(noNode.body(), "error")).contains("no live node's id starts with abcdef");
  }

  @Test
  void namesOutsideTheLogsDirectoryAreRefusedByTheHeadAndByTheNode() throws Exception {
    Files.writeString(session.resolve("secret.txt"), "top secret\n");
    Files.writeString(logsDir.resolve("node.log"), "daemon line\n");
    // Rule: only plain names of the node's logs directory are read; nothing else leaves the node.
    for (String name :
        List.of(
            "../secret.txt",
            "..",
            ".",
            "/etc/passwd",
            "logs/../../secret.txt",
            "%2e%2e%2fsecret.txt",
            "..%5csecret.txt",
            "node.log%00.txt")) {
      HttpResponse<String> r = api("/api/log?file=" + name);
      assertThat(r.statusCode()).as(name).isEqualTo(400);
      assertThat(r.body()).as(name).doesNotContain("top secret").doesNotContain("root:");
      assertThat(textField(r.body(), "error")).as(name).contains("not a log file name");
    }
    for (String bad : List.of("worker=../x", "worker=zz", "node=../x&daemon", "tail=-5&daemon")) {
      assertThat(api("/api/log?" + bad).statusCode()).as(bad).isEqualTo(400);
    }
    assertThat(textField(api("/api/log?file=node.log").body(), "text")).isEqualTo("daemon line\n");

    // The node manager refuses such names on its own, whoever asks.
    try (NodeLogClient direct = new NodeLogClient(rpc)) {
      for (String name : List.of("../secret.txt", "..", "/etc/passwd")) {
        LogRequestException e =
            catchThrowableOfType(
                LogRequestException.class,
                () -> direct.read("n1", nodeTarget, name, null, 10, LogsApi.MAX_BYTES));
        assertThat(e).as(name).isNotNull();
        assertThat(e.status()).as(name).isEqualTo(400);
        assertThat(e.getMessage()).as(name).contains("node n1 refused to read " + name);
      }
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

  /**
   * One node (whose node manager is {@code target}) with one worker, and one stream whose counters
   * and stalled time grow at each read.
   */
  private static final class FakeState implements ClusterState {
    static final long WORKER_PID = 4242;

    private final NodeId node = NodeId.random();
    private final WorkerId worker = WorkerId.random();
    private final String target;
    private final AtomicLong reads = new AtomicLong();

    FakeState(String target) {
      this.target = target;
    }

    @Override
    public List<NodeState> nodes(StateQuery query) {
      return List.of(
          new NodeState(
              node,
              "ALIVE",
              true,
              target,
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
      return List.of(new WorkerState(worker, node, "IDLE", WORKER_PID, "127.0.0.1:2", null));
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

  /** A node manager's log service alone: ListLogs as the node lists, ReadLog as it serves. */
  private static final class NodeLogService
      extends NodeManagerServiceGrpc.NodeManagerServiceImplBase {
    private final LogFiles files;

    NodeLogService(Path logsDir) {
      this.files = new LogFiles(logsDir);
    }

    @Override
    public void listLogs(ListLogsRequest req, StreamObserver<ListLogsReply> out) {
      ListLogsReply.Builder b = ListLogsReply.newBuilder();
      try {
        for (LogFiles.Entry e : files.list()) {
          b.addFiles(
              LogFileInfo.newBuilder()
                  .setName(e.name())
                  .setSize(e.size())
                  .setModifiedMillis(e.modifiedMillis()));
        }
      } catch (IOException e) {
        out.onError(e);
        return;
      }
      out.onNext(b.build());
      out.onCompleted();
    }

    @Override
    public void readLog(ReadLogRequest req, StreamObserver<LogChunk> out) {
      LogReadStream.serve(files, req, out);
    }
  }
}
