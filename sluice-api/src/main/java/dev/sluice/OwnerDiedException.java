package dev.sluice;

/** The process that owns an object died, so the object can no longer be resolved. */
public class OwnerDiedException extends SluiceException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public OwnerDiedException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public OwnerDiedException(String message, Throwable cause) {
    super(message, cause);
  }
}
