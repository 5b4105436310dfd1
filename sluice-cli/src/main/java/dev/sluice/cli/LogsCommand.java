package dev.sluice.cli;

import dev.sluice.StateQuery;
import dev.sluice.TaskState;
import dev.sluice.runtime.logging.LogFileNames;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.ListLogsRequest;
import dev.sluice.runtime.rpc.proto.LogChunk;
import dev.sluice.runtime.rpc.proto.LogFileInfo;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ReadLogRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice logs}: lists the log files of a cluster's nodes, or prints one (a worker's, a node
 * daemon's, or any file by name), read through the node manager of the node that holds it ({@code
 * ReadLog}, token-protected like every RPC), from its last {@code --tail} lines on, and with {@code
 * --follow} what is appended until Ctrl-C. Without {@code --address} it asks the head started on
 * this machine. The nodes come from the control service; {@code --node} picks one by a prefix of
 * its id.
 */
@Command(
    name = "logs",
    mixinStandardHelpOptions = true,
    description = {
      "Lists the log files of a Sluice cluster's nodes, or prints one.",
      "Without --worker, --daemon or --file: lists every node's files."
    })
final class LogsCommand implements Callable<Integer> {
  private static final long DEADLINE_SECONDS = 10;
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

  @Spec private CommandSpec spec;

  @Option(
      names = "--node",
      paramLabel = "ID",
      description = "Only the node whose id starts with ID (default: every live node).")
  private String node;

  @ArgGroup(exclusive = true)
  private What what;

  /** Which file: at most one. */
  static final class What {
    @Option(
        names = "--worker",
        paramLabel = "ID",
        description = "The log of the worker whose id starts with ID (as 'sluice list workers').")
    String worker;

    @Option(
        names = "--task",
        paramLabel = "ID",
        description =
            "The log of the worker that ran the task (its latest started attempt; as 'sluice list"
                + " tasks').")
    String task;

    @Option(names = "--daemon", description = "The node daemon's log (of --node, else the head's).")
    boolean daemon;

    @Option(
        names = "--file",
        paramLabel = "NAME",
        description = "A file by the name the listing shows (on --node, else the head).")
    String file;
  }

  @Option(
      names = "--out",
      description =
          "With --worker or --daemon: its standard output and error (.out) instead of its log.")
  private boolean out;

  @Option(
      names = {"-f", "--follow"},
      description = "Keep printing what is appended until Ctrl-C.")
  private boolean follow;

  @Option(
      names = "--tail",
      paramLabel = "N",
      description =
          "Start at the last N lines; -1 prints the whole file (default: ${DEFAULT-VALUE}).")
  private int tail = 1000;

  @Mixin private ClusterOptions cluster;

  private RpcFactory rpc;

  @Override
  public Integer call() throws IOException {
    ClusterConnection connection = ClusterConnection.resolve(cluster, spec.commandLine());
    rpc = connection.rpc();
    List<NodeInfo> nodes = connection.nodes();
    List<NodeInfo> chosen = chosenNodes(nodes);
    PrintWriter w = spec.commandLine().getOut();
    if (what == null) {
      list(w, chosen);
    } else if (what.worker != null) {
      printWorkerLog(w, what.worker, chosen);
    } else if (what.task != null) {
      printWorkerLog(w, workerOfTask(connection, what.task), chosen);
    } else {
      NodeInfo n = node != null ? chosen.getFirst() : head(chosen);
      String name =
          what.daemon ? (out ? LogFileNames.DAEMON_OUT : LogFileNames.DAEMON_LOG) : what.file;
      print(w, n, name);
    }
    w.flush();
    return 0;
  }

  private List<NodeInfo> chosenNodes(List<NodeInfo> nodes) {
    List<NodeInfo> chosen = new ArrayList<>();
    for (NodeInfo n : nodes) {
      if (n.getAlive() && (node == null || hex(n).startsWith(node.toLowerCase(Locale.ROOT)))) {
        chosen.add(n);
      }
    }
    if (chosen.isEmpty()) {
      throw new CliException(
          node == null
              ? "the cluster has no live node"
              : "no live node's id starts with " + node + " (see 'sluice status')");
    }
    if (node != null && chosen.size() > 1) {
      throw new CliException(
          "several nodes' ids start with " + node + ": " + String.join(", ", ids(chosen)));
    }
    return chosen;
  }

  private static NodeInfo head(List<NodeInfo> nodes) {
    return nodes.stream().filter(NodeInfo::getIsHead).findFirst().orElse(nodes.getFirst());
  }

  private void list(PrintWriter w, List<NodeInfo> nodes) {
    for (NodeInfo n : nodes) {
      w.println(
          "node "
              + hex(n)
              + (n.getIsHead() ? " (head)" : "")
              + " at "
              + n.getNodeManager().getHost()
              + ":"
              + n.getNodeManager().getPort()
              + ":");
      for (LogFileInfo f : files(n)) {
        w.printf(
            "  %12d  %s  %s%n",
            f.getSize(), TIME.format(Instant.ofEpochMilli(f.getModifiedMillis())), f.getName());
      }
    }
  }

  /**
   * The id of the worker that ran the latest started attempt of task {@code taskId}, as the state
   * API knows it.
   */
  private static String workerOfTask(ClusterConnection connection, String taskId)
      throws IOException {
    List<TaskState> attempts =
        connection.state(
            state -> state.tasks(StateQuery.all().filter("task_id", taskId).limit(1000)));
    return attempts.stream()
        .filter(t -> t.workerId() != null)
        .max(Comparator.comparingInt(TaskState::attemptNumber))
        .map(t -> t.workerId().hex())
        .orElseThrow(
            () ->
                new CliException(
                    attempts.isEmpty()
                        ? "no task " + taskId + " ('sluice list tasks' lists them)"
                        : "task " + taskId + " has not started on a worker yet"));
  }

  /** Prints the log of the worker whose id starts with {@code workerId}, found on {@code nodes}. */
  void printWorkerLog(PrintWriter w, String workerId, List<NodeInfo> nodes) {
    String id = workerId.toLowerCase(Locale.ROOT);
    if (id.isEmpty() || !id.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      throw new CliException("not a worker id: '" + workerId + "' (hex digits)");
    }
    String prefix = LogFileNames.workerPrefix(id);
    String suffix = out ? ".out" : ".log";
    NodeInfo where = null;
    String name = null;
    TreeSet<String> workers = new TreeSet<>();
    for (NodeInfo n : nodes) {
      for (LogFileInfo f : files(n)) {
        String fn = f.getName();
        if (fn.startsWith(prefix) && fn.endsWith(suffix)) {
          workers.add(fn.substring(0, "worker-".length() + LogFileNames.WORKER_ID_CHARS));
          where = n;
          name = fn;
        }
      }
    }
    if (name == null) {
      throw new CliException(
          "no log of worker "
              + workerId
              + " on "
              + (nodes.size() == 1 ? "node " + hex(nodes.getFirst()) : "any live node")
              + " ('sluice logs' lists the files)");
    }
    if (workers.size() > 1) {
      throw new CliException(
          "several workers' ids start with " + workerId + ": " + String.join(", ", workers));
    }
    print(w, where, name);
  }

  private List<LogFileInfo> files(NodeInfo n) {
    ManagedChannel ch = rpc.newChannel(target(n));
    try {
      return NodeManagerServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
          .listLogs(ListLogsRequest.getDefaultInstance())
          .getFilesList();
    } catch (StatusRuntimeException e) {
      throw nodeFailure(n, e);
    } finally {
      RpcFactory.shutdownQuietly(ch);
    }
  }

  /** Prints file {@code name} of node {@code n}, following it if asked. */
  private void print(PrintWriter w, NodeInfo n, String name) {
    ManagedChannel ch = rpc.newChannel(target(n));
    try {
      Iterator<LogChunk> chunks =
          NodeManagerServiceGrpc.newBlockingStub(ch)
              .readLog(
                  ReadLogRequest.newBuilder()
                      .setName(name)
                      .setTailLines(tail)
                      .setFollow(follow)
                      .build());
      Utf8Lines lines = new Utf8Lines(w);
      while (chunks.hasNext()) {
        lines.add(chunks.next().getData().toByteArray());
      }
      lines.finish();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
        throw new CliException(
            "node " + hex(n) + " refused to read " + name + ": " + e.getStatus().getDescription());
      }
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        throw new CliException(
            "node " + hex(n) + " has no log file " + name + " ('sluice logs' lists the files)");
      }
      throw nodeFailure(n, e);
    } finally {
      RpcFactory.shutdownQuietly(ch);
    }
  }

  private static CliException nodeFailure(NodeInfo n, StatusRuntimeException e) {
    return new CliException(
        "node "
            + hex(n)
            + " at "
            + target(n)
            + " did not answer ("
            + e.getStatus().getCode()
            + (e.getStatus().getDescription() != null ? ", " + e.getStatus().getDescription() : "")
            + ")",
        e);
  }

  private static String target(NodeInfo n) {
    return n.getNodeManager().getHost() + ":" + n.getNodeManager().getPort();
  }

  private static String hex(NodeInfo n) {
    return HexFormat.of().formatHex(n.getNodeId().toByteArray());
  }

  private static List<String> ids(List<NodeInfo> nodes) {
    return nodes.stream().map(LogsCommand::hex).toList();
  }

  /** Writes bytes as text, whole lines at a time (a chunk may end inside a character). */
  private static final class Utf8Lines {
    private final PrintWriter w;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    Utf8Lines(PrintWriter w) {
      this.w = w;
    }

    void add(byte[] bytes) {
      int lastNewline = -1;
      for (int i = bytes.length - 1; i >= 0; i--) {
        if (bytes[i] == '\n') {
          lastNewline = i;
          break;
        }
      }
      if (lastNewline < 0) {
        pending.writeBytes(bytes);
        return;
      }
      pending.write(bytes, 0, lastNewline + 1);
      w.print(pending.toString(StandardCharsets.UTF_8));
      w.flush();
      pending.reset();
      pending.write(bytes, lastNewline + 1, bytes.length - lastNewline - 1);
    }

    void finish() {
      if (pending.size() > 0) {
        w.print(pending.toString(StandardCharsets.UTF_8));
      }
      w.flush();
    }
  }
}
