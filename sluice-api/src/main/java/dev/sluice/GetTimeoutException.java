package dev.sluice;

/** A {@code get} with a timeout did not see the object become ready in time. */
public class GetTimeoutException extends SluiceException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public GetTimeoutException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public GetTimeoutException(String message, Throwable cause) {
    super(message, cause);
  }
}
