package dev.sluice;

/** The node running a task died and no retries were left. */
public class NodeDiedException extends SluiceException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public NodeDiedException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public NodeDiedException(String message, Throwable cause) {
    super(message, cause);
  }
}
