package dev.sluice;

/**
 * A task's function threw: {@link #getCause()} is the original exception when it could be rebuilt
 * on this side, else a {@link RemoteException}. The message names the function, the task id and the
 * node.
 */
public class TaskException extends SluiceException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public TaskException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public TaskException(String message, Throwable cause) {
    super(message, cause);
  }
}
