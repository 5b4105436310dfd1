package dev.sluice;

/**
 * The task was cancelled with {@link Sluice#cancel(ObjectRef)} (or one of its overloads) before it
 * produced its result; also when its worker had to be killed to stop it.
 */
public class TaskCancelledException extends SluiceException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public TaskCancelledException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public TaskCancelledException(String message, Throwable cause) {
    super(message, cause);
  }
}
