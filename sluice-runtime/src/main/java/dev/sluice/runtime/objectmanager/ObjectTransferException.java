package dev.sluice.runtime.objectmanager;

/**
 * Why an object could not be moved between nodes' stores: the {@link Kind} of the failure and a
 * message naming the object, the source and the node. The gRPC edge turns the kind into a status
 * code ({@link ChunkSendStream#statusOf}), which the fetching process reads.
 */
public final class ObjectTransferException extends RuntimeException {

  /** What went wrong. */
  public enum Kind {
    /** The request was malformed (a bad object id, no size). */
    INVALID_ARGUMENT,
    /** The source's store does not have the object. */
    NOT_FOUND,
    /** The source or this node cannot be reached, stopped answering, or is shutting down. */
    UNAVAILABLE,
    /** The bytes received do not match the object (size, offsets). */
    DATA_LOSS,
    /** The object is larger than this node's whole store. */
    TOO_LARGE,
    /** This node's store has no room for the object now. */
    STORE_FULL,
    /** An unexpected failure. */
    INTERNAL
  }

  private final Kind kind;

  ObjectTransferException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  ObjectTransferException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  /** What went wrong. */
  public Kind kind() {
    return kind;
  }
}
