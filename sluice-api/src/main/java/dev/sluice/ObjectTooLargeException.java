package dev.sluice;

/** A value is larger than Sluice can carry: the message names the size and the limit it exceeds. */
public class ObjectTooLargeException extends SluiceException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public ObjectTooLargeException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public ObjectTooLargeException(String message, Throwable cause) {
    super(message, cause);
  }
}
