package dev.sluice;

/**
 * A node's shared-memory object store had no room for a new object even after spilling every object
 * it could to disk. The message names the requested size, the store's capacity and its usage;
 * raising {@link SluiceConfig.Builder#objectStoreBytes} or releasing refs makes room.
 */
public class ObjectStoreFullException extends SluiceException {
  /** Creates the exception with a message naming size, capacity and usage. */
  public ObjectStoreFullException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the failure that caused it. */
  public ObjectStoreFullException(String message, Throwable cause) {
    super(message, cause);
  }
}
