package dev.sluice;

/** Sluice could not start a component (control service, node manager, worker process). */
public class RuntimeStartupException extends SluiceException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public RuntimeStartupException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public RuntimeStartupException(String message, Throwable cause) {
    super(message, cause);
  }
}
