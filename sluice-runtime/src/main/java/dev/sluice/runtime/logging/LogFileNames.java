package dev.sluice.runtime.logging;

import java.nio.file.Path;

/**
 * The names of the files in a session's {@code logs/} directory, which {@code sluice logs} lists
 * and reads: per worker {@code worker-<id>-<pid>.log} (its log, rotated into {@code .log.1} ...)
 * and {@code worker-<id>.out} (its standard output and error: JVM messages, stray prints), per node
 * daemon {@code node.log} and {@code node.out}; {@code <id>} is the first {@value #WORKER_ID_CHARS}
 * hex digits of the worker id.
 *
 * <p>Stateless.
 */
public final class LogFileNames {
  /** How many hex digits of a worker id name its files. */
  public static final int WORKER_ID_CHARS = 12;

  /** A node daemon's log file. */
  public static final String DAEMON_LOG = "node.log";

  /** A node daemon's standard output and error. */
  public static final String DAEMON_OUT = "node.out";

  private LogFileNames() {}

  /** The logs directory of the session directory {@code sessionDir}. */
  public static Path logsDir(Path sessionDir) {
    return sessionDir.resolve("logs");
  }

  /** What every file of the worker whose id is {@code workerHex} starts with. */
  public static String workerPrefix(String workerHex) {
    return "worker-" + workerHex.substring(0, Math.min(WORKER_ID_CHARS, workerHex.length()));
  }

  /** The worker's log file name, {@code {pid}} standing for its process id. */
  public static String workerLogTemplate(String workerHex) {
    return workerPrefix(workerHex) + "-" + ProcessLogConfigurator.PID_PLACEHOLDER + ".log";
  }

  /** The worker's log file name once its process id is known. */
  public static String workerLog(String workerHex, long pid) {
    return workerPrefix(workerHex) + "-" + pid + ".log";
  }

  /** The worker's standard output and error. */
  public static String workerOut(String workerHex) {
    return workerPrefix(workerHex) + ".out";
  }
}
