package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.WorkerId;
import dev.sluice.runtime.common.OwnerOnlyFiles;
import dev.sluice.runtime.executor.WorkerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One worker JVM started by a node manager. The node manager keeps the write end of the worker's
 * standard input open for the worker's whole life; the worker exits as soon as it reads end of
 * file, so it never outlives the node manager, even when that process is killed with
 * {@code SIGKILL}.
 *
 * <p>Not thread-safe: the node manager guards the mutable fields with its lock.
 */
final class WorkerProcess {
  /** Lifecycle of a worker as the node manager sees it. */
  enum State { STARTING, IDLE, LEASED, DEAD }

  /** JVM options every worker gets: the runtime's own needs, not the user's. */
  static final List<String> RUNTIME_JVM_OPTIONS = List.of(
      "--enable-native-access=ALL-UNNAMED",
      "--sun-misc-unsafe-memory-access=allow",
      "-XX:+UseParallelGC",
      "-Xshare:auto");

  final WorkerId id;
  /** The job whose code the worker runs; empty for a worker on the node's own class path. */
  final ByteString job;
  final Process process;
  final Path logFile;
  final long startedNanos = System.nanoTime();
  State state = State.STARTING;
  int port;
  long idleSinceNanos;

  private WorkerProcess(WorkerId id, ByteString job, Process process, Path logFile) {
    this.id = id;
    this.job = job;
    this.process = process;
    this.logFile = logFile;
  }

  /**
   * Launches a worker JVM for {@code config} with the node's options, running the code of
   * {@code job} (empty: none in particular) from {@code classPath}.
   */
  static WorkerProcess launch(WorkerConfig config, NodeConfig node, ByteString job,
      List<Path> classPath) throws IOException {
    Path logDir = node.sessionDir().resolve("logs");
    OwnerOnlyFiles.createDirectories(logDir);
    Path log = OwnerOnlyFiles.ensureFile(
        logDir.resolve("worker-" + config.workerId().hex().substring(0, 12) + ".log"));
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(RUNTIME_JVM_OPTIONS);
    cmd.addAll(node.workerJvmOptions());
    cmd.add("-Dsluice.worker.log=" + log);
    cmd.add("-cp");
    cmd.add(ClassPathResolver.join(classPath));
    cmd.add("dev.sluice.runtime.executor.WorkerMain");
    cmd.addAll(config.toArgs());
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.PIPE);
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    pb.environment().putAll(config.toEnvironment());
    return new WorkerProcess(config.workerId(), job, pb.start(), log);
  }

  long pid() {
    return process.pid();
  }

  /** Asks the worker to exit, then kills it if it has not within a grace period. */
  void terminate() {
    try {
      process.getOutputStream().close();
    } catch (IOException ignored) {
      // closing our end of the pipe is the exit signal; a failure means the process is gone
    }
    process.destroy();
  }

  /** Waits for exit, killing the process forcibly after {@code graceMillis}. */
  void awaitExit(long graceMillis) {
    try {
      if (!process.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** The last lines of the worker's log, for error messages. */
  String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(log " + logFile + " unreadable: " + e.getMessage() + ")";
    }
  }
}
