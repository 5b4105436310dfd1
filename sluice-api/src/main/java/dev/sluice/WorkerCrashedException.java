package dev.sluice;

/**
 * The worker process running a task died (crashed, was killed or became unreachable) and no retries
 * were left.
 */
public class WorkerCrashedException extends SluiceException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public WorkerCrashedException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public WorkerCrashedException(String message, Throwable cause) {
    super(message, cause);
  }
}
