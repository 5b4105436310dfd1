package dev.sluice;

/** Base class of every exception Sluice throws for a runtime condition. Unchecked. */
public class SluiceException extends RuntimeException {
  /** Creates an exception with a message. */
  public SluiceException(String message) {
    super(message);
  }

  /** Creates an exception with a message and a cause. */
  public SluiceException(String message, Throwable cause) {
    super(message, cause);
  }
}
