package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.WorkerId;
import dev.sluice.runtime.common.OwnerOnlyFiles;
import dev.sluice.runtime.executor.WorkerConfig;
import dev.sluice.runtime.logging.LogFileNames;
import dev.sluice.runtime.logging.LogTail;
import dev.sluice.runtime.logging.ProcessLogging;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One worker JVM started by a node manager. The node manager keeps the write end of the worker's
 * standard input open for the worker's whole life; the worker exits as soon as it reads end of
 * file, so it never outlives the node manager, even when that process is killed with {@code
 * SIGKILL}.
 *
 * <p>Not thread-safe: the node manager guards the mutable fields with its lock.
 */
final class WorkerProcess {
  /** Lifecycle of a worker as the node manager sees it. */
  enum State {
    STARTING,
    IDLE,
    LEASED,
    DEAD
  }

  /**
   * JVM options every worker gets: the runtime's own needs, not the user's. Class data sharing is
   * left at the JVM's default ({@code -Xshare:auto}), which {@link WorkerLaunchCache} extends with
   * an AOT cache; an explicit {@code -Xshare} would exclude the AOT options. The collector is
   * {@link JvmCollector}'s choice, added unless the user's options name one.
   */
  static final List<String> RUNTIME_JVM_OPTIONS =
      List.of(
          "--enable-native-access=ALL-UNNAMED",
          "--sun-misc-unsafe-memory-access=allow",
          // Netty would emit JFR events for its buffer allocations, and its first buffer would then
          // initialize the JVM's flight recorder metadata: ~0.1 s of CPU on a worker's start.
          "-Dio.grpc.netty.shaded.io.netty.jfr.enabled=false");

  /** How long a worker recording an AOT configuration may take to exit before it is killed. */
  static final long TRAINING_EXIT_GRACE_MILLIS = 20_000;

  final WorkerId id;

  /** The job whose code the worker runs; empty for a worker on the node's own class path. */
  final ByteString job;

  final Process process;

  /** Its log file (rotated), written by its logging. */
  final Path logFile;

  /** Its standard output and error. */
  final Path outFile;

  final long startedNanos = System.nanoTime();
  State state = State.STARTING;

  /**
   * Every task it runs is blocked (it said so): its leases' CPUs are lent and it may be leased
   * again. Guarded by the node manager's lock, like {@code state}.
   */
  boolean allBlocked;

  /**
   * Started for (or given to) an actor (DESIGN "Actors"): outside the worker bound, leased only for
   * actors, never pooled for tasks again. Guarded by the node manager's lock.
   */
  boolean forActor;

  /** The actor it hosts once leased for one, or empty. Guarded by the node manager's lock. */
  ByteString actorId = ByteString.EMPTY;

  /** Set when the worker registers; volatile because the exit report reads it off the lock. */
  volatile int port;

  /** Its Unix domain socket listener, or empty; set when it registers. */
  volatile String localSocket = "";

  long idleSinceNanos;
  private final WorkerLaunchCache.Plan aot;
  private final AtomicBoolean exitReported = new AtomicBoolean();

  /** A worker of {@code process} (see {@link #launch}; tests pass a fake process). */
  WorkerProcess(
      WorkerId id,
      ByteString job,
      Process process,
      Path logFile,
      Path outFile,
      WorkerLaunchCache.Plan aot) {
    this.id = id;
    this.job = job;
    this.process = process;
    this.logFile = logFile;
    this.outFile = outFile;
    this.aot = aot;
  }

  /**
   * Launches a worker JVM for {@code config} with the node's options, running the code of {@code
   * job} (empty: none in particular) from {@code classPath}, with the AOT cache of its launch line
   * in {@code cache} if there is one.
   */
  static WorkerProcess launch(
      WorkerConfig config,
      NodeConfig node,
      ByteString job,
      List<Path> classPath,
      WorkerLaunchCache cache)
      throws IOException {
    Path logDir = LogFileNames.logsDir(node.sessionDir());
    OwnerOnlyFiles.createDirectories(logDir);
    String hex = config.workerId().hex();
    Path out = OwnerOnlyFiles.ensureFile(logDir.resolve(LogFileNames.workerOut(hex)));
    List<String> cmd = new ArrayList<>();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> options = new ArrayList<>(jvmOptions(node.workerJvmOptions()));
    // Before the user's options, so that theirs can choose the class path's logging instead.
    options.addAll(ProcessLogging.jvmOptions(logDir.resolve(LogFileNames.workerLogTemplate(hex))));
    options.addAll(node.workerJvmOptions());
    List<Path> fullClassPath = new ArrayList<>();
    if (ProcessLogging.builtIn(options)) {
      Path root = node.sessionDir().toAbsolutePath().getParent();
      fullClassPath.addAll(
          ProcessLogging.classPath(ProcessLogging.cacheDir(root != null ? root : logDir)));
    }
    fullClassPath.addAll(classPath);
    WorkerLaunchCache.Plan aot = cache.plan(java, options, fullClassPath);
    cmd.add(java);
    cmd.addAll(options);
    cmd.addAll(aot.jvmOptions());
    cmd.add("-cp");
    cmd.add(ClassPathResolver.join(fullClassPath));
    cmd.add(WorkerConfig.MAIN_CLASS);
    cmd.addAll(config.toArgs());
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
            .redirectInput(ProcessBuilder.Redirect.PIPE);
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    pb.environment().putAll(config.toEnvironment());
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      aot.finished(-1, false);
      throw e;
    }
    WorkerProcess w =
        new WorkerProcess(
            config.workerId(),
            job,
            process,
            logDir.resolve(LogFileNames.workerLog(hex, process.pid())),
            out,
            aot);
    process.onExit().thenRun(w::reportExit);
    return w;
  }

  /**
   * The runtime's options for a worker whose user options are {@code userOptions} (which follow
   * them on the command line): {@link #RUNTIME_JVM_OPTIONS} and the collector.
   */
  static List<String> jvmOptions(List<String> userOptions) {
    return JvmCollector.with(RUNTIME_JVM_OPTIONS, userOptions);
  }

  /** Tells the launch cache how the worker ended (once, whichever of exit and wait sees it). */
  private void reportExit() {
    if (!process.isAlive() && exitReported.compareAndSet(false, true)) {
      aot.finished(process.exitValue(), port > 0);
    }
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
    // A worker recording an AOT configuration writes it on its way out (1-2 s, more under load).
    long grace =
        aot.recording() == null ? graceMillis : Math.max(graceMillis, TRAINING_EXIT_GRACE_MILLIS);
    try {
      if (!process.waitFor(grace, TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
      // Right away, not on the exit callback's thread: a training worker's recording must be
      // kept before the node manager (and perhaps its JVM) goes.
      reportExit();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The last lines of the worker's standard output and error (JVM messages, uncaught errors) and of
   * its log, for error messages.
   */
  String logTail(int lines) {
    return LogTail.ofProcess(outFile, logFile, lines);
  }
}
