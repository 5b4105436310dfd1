package dev.sluice;

/**
 * A value is larger than Sluice can carry: the message names the size and the limit it exceeds. It
 * is a kind of {@link ObjectStoreFullException} (as in Ray), so code that handles a full store
 * handles it too; unlike a full store, releasing refs does not help: split the value instead.
 */
public class ObjectTooLargeException extends ObjectStoreFullException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public ObjectTooLargeException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public ObjectTooLargeException(String message, Throwable cause) {
    super(message, cause);
  }
}
