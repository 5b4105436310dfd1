package dev.sluice;

/**
 * A value could not be serialized or deserialized: not serializable, or its class is not on the
 * serialization allow-list (see {@link SluiceConfig.Builder#serializationAllowList}).
 */
public class SerializationException extends SluiceException {
  /** Creates the exception with a message that names the task, function and node involved. */
  public SerializationException(String message) {
    super(message);
  }

  /** Creates the exception with a message and a cause. */
  public SerializationException(String message, Throwable cause) {
    super(message, cause);
  }
}
