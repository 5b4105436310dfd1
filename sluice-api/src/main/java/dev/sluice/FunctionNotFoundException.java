package dev.sluice;

/**
 * A task's function could not be loaded on the worker: its class or method is missing from the
 * worker's class path.
 */
public class FunctionNotFoundException extends SluiceException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public FunctionNotFoundException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public FunctionNotFoundException(String message, Throwable cause) {
    super(message, cause);
  }
}
