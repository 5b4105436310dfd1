package dev.sluice.cli;

import dev.sluice.runtime.common.OwnerOnlyFiles;
import dev.sluice.runtime.daemon.DaemonConfig;
import dev.sluice.runtime.daemon.NodeDaemon;
import dev.sluice.runtime.logging.LogFileNames;
import dev.sluice.runtime.logging.LogTail;
import dev.sluice.runtime.logging.ProcessLogging;
import dev.sluice.runtime.node.ClassPathResolver;
import dev.sluice.runtime.node.NodeManager;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Launches a {@link NodeDaemon} JVM and waits until it is up. The daemon runs this JVM's class
 * path: the CLI jar when the CLI runs from it, the build's class path in tests. Detached daemons
 * get a session of their own ({@code setsid}, where available), so that signals meant for the shell
 * that ran {@code sluice start} do not reach them; they log to {@code <session>/logs/node.log}
 * (rotated), their standard output and error go to {@code node.out}, their standard input is empty.
 */
final class DaemonLauncher {
  static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration PROGRESS_PERIOD = Duration.ofSeconds(2);
  private static final int LOG_TAIL_LINES = 30;

  private final PrintWriter progress;
  private final Duration progressPeriod;

  /** A launcher that reports its progress on {@code progress} (the CLI's error writer). */
  DaemonLauncher(PrintWriter progress) {
    this(progress, PROGRESS_PERIOD);
  }

  DaemonLauncher(PrintWriter progress, Duration progressPeriod) {
    this.progress = progress;
    this.progressPeriod = progressPeriod;
  }

  /** A daemon that is up. */
  record Started(Process process, NodeDaemon.ReadyFile ready, Path logFile) {}

  /**
   * Starts the daemon of {@code config} and returns once it has written its ready file.
   *
   * @param detached whether the daemon outlives this JVM in a session of its own
   * @throws CliException if it exits or is not up within {@link #START_TIMEOUT}; the message
   *     includes the tail of its log
   */
  Started launch(DaemonConfig config, boolean detached) throws IOException {
    Path logFile = logFile(config.sessionDir());
    Path outFile = outFile(config.sessionDir());
    OwnerOnlyFiles.createDirectories(logFile.getParent());
    OwnerOnlyFiles.ensureFile(outFile);
    ProcessBuilder pb =
        new ProcessBuilder(command(config, logFile, detached))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(outFile.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    Process p = pb.start();
    Thread abandon = new Thread(p::destroyForcibly, "sluice-start-abandoned");
    Runtime.getRuntime().addShutdownHook(abandon);
    try {
      return new Started(
          p,
          awaitReady(p, config.head() ? "the head" : "the node", config.readyFile(), logFile),
          logFile);
    } catch (RuntimeException e) {
      p.destroyForcibly();
      throw e;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(abandon);
      } catch (IllegalStateException e) {
        // this JVM is shutting down (Ctrl-C while waiting): the hook kills the half-started node
      }
    }
  }

  /** The log file of the daemon whose session directory is {@code sessionDir}. */
  static Path logFile(Path sessionDir) {
    return LogFileNames.logsDir(sessionDir).resolve(LogFileNames.DAEMON_LOG);
  }

  /** The standard output and error of the daemon whose session directory is {@code sessionDir}. */
  static Path outFile(Path sessionDir) {
    return LogFileNames.logsDir(sessionDir).resolve(LogFileNames.DAEMON_OUT);
  }

  private static List<String> command(DaemonConfig config, Path logFile, boolean detached)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    Path setsid = detached ? setsid() : null;
    if (setsid != null) {
      cmd.add(setsid.toString());
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(NodeManager.runtimeJvmOptions());
    cmd.addAll(ProcessLogging.jvmOptions(logFile));
    List<Path> classPath =
        new ArrayList<>(ProcessLogging.classPath(ProcessLogging.cacheDir(config.sessionRoot())));
    classPath.addAll(ClassPathResolver.effectiveClassPath());
    cmd.add("-cp");
    cmd.add(ClassPathResolver.join(classPath));
    cmd.add(NodeDaemon.class.getName());
    cmd.addAll(config.toArgs());
    return cmd;
  }

  private static Path setsid() {
    for (String p : List.of("/usr/bin/setsid", "/bin/setsid")) {
      if (Files.isExecutable(Path.of(p))) {
        return Path.of(p);
      }
    }
    return null;
  }

  private NodeDaemon.ReadyFile awaitReady(Process p, String what, Path readyFile, Path logFile)
      throws IOException {
    long start = System.nanoTime();
    long deadline = start + START_TIMEOUT.toNanos();
    long nextProgress = start + progressPeriod.toNanos();
    while (System.nanoTime() < deadline) {
      NodeDaemon.ReadyFile ready = NodeDaemon.ReadyFile.read(readyFile);
      if (ready != null) {
        return ready;
      }
      if (!p.isAlive()) {
        throw new CliException(
            "the node exited with code "
                + p.exitValue()
                + " before it was up; the end of its log "
                + logFile
                + ":\n"
                + tail(logFile));
      }
      if (System.nanoTime() >= nextProgress) {
        String last = LogTail.of(logFile, 1);
        progress.println(
            "waiting for "
                + what
                + " (pid "
                + p.pid()
                + ") to come up: "
                + Duration.ofNanos(System.nanoTime() - start).toSeconds()
                + " s"
                + (last.isBlank() ? "" : "; its log: " + last));
        progress.flush();
        nextProgress = System.nanoTime() + progressPeriod.toNanos();
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException("interrupted while waiting for the node to come up");
      }
    }
    throw new CliException(
        "the node was not up within "
            + START_TIMEOUT.toSeconds()
            + " s and was killed; the end of its log "
            + logFile
            + ":\n"
            + tail(logFile));
  }

  /**
   * The last lines of the standard output and error next to the log file {@code log}, then of the
   * log itself.
   */
  static String tail(Path log) {
    return LogTail.ofProcess(log.resolveSibling(LogFileNames.DAEMON_OUT), log, LOG_TAIL_LINES);
  }
}
