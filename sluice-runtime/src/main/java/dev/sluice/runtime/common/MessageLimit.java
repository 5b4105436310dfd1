package dev.sluice.runtime.common;

/**
 * How large a serialized value may be to travel inline: the transport's message limit minus room
 * for the rest of the message. Until the shared-memory store exists, a larger value cannot
 * travel at all, and the caller reports it with {@link #describeExcess}.
 */
public final class MessageLimit {
  /** Room left in a message for everything but the value. */
  public static final int OVERHEAD_BYTES = 64 * 1024;

  private MessageLimit() {}

  /**
   * Null if a value of {@code size} bytes fits under {@code maxMessageBytes}; else a message
   * saying that {@code what} is over the limit, naming the size and the limit.
   */
  public static String describeExcess(String what, long size, int maxMessageBytes) {
    return describeExcess(() -> what, size, maxMessageBytes);
  }

  /** Like {@link #describeExcess(String, long, int)}, naming the value only when it is over. */
  public static String describeExcess(java.util.function.Supplier<String> what, long size,
      int maxMessageBytes) {
    int limit = maxMessageBytes - OVERHEAD_BYTES;
    if (size <= limit) {
      return null;
    }
    return what.get() + " is " + size + " bytes serialized, over the " + limit
        + "-byte transport limit (SluiceConfig.maxMessageBytes " + maxMessageBytes
        + " minus message overhead)";
  }
}
