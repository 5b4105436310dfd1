package dev.sluice.runtime.common;

/**
 * How large a serialized value may be to travel inline: the transport's message limit minus room
 * for the rest of the message. Values over the inline threshold go through the node's shared-memory
 * store instead, and {@code SluiceConfig} keeps the threshold under this limit, so {@link
 * #describeExcess} reports only an inline value that still does not fit.
 */
public final class MessageLimit {
  /** Room left in a message for everything but the value. */
  public static final int OVERHEAD_BYTES = 64 * 1024;

  private MessageLimit() {}

  /**
   * Null if a value of {@code size} bytes fits under {@code maxMessageBytes}; else a message saying
   * that {@code what} is over the limit, naming the size and the limit.
   */
  public static String describeExcess(
      java.util.function.Supplier<String> what, long size, int maxMessageBytes) {
    int limit = maxMessageBytes - OVERHEAD_BYTES;
    if (size <= limit) {
      return null;
    }
    return what.get()
        + " is "
        + size
        + " bytes serialized, over the "
        + limit
        + "-byte transport limit (SluiceConfig.maxMessageBytes "
        + maxMessageBytes
        + " minus message overhead)";
  }
}
