package dev.sluice;

/** An object's value is gone (its copies were lost) and cannot be rebuilt. */
public class ObjectLostException extends SluiceException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public ObjectLostException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public ObjectLostException(String message, Throwable cause) {
    super(message, cause);
  }
}
