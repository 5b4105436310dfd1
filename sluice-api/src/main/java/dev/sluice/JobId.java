package dev.sluice;

import java.nio.ByteBuffer;

/**
 * Identifies one driver's job (4 bytes, assigned by the control service): each cluster numbers its
 * jobs on from a random start, so ids of different clusters and sessions differ.
 */
public final class JobId extends BaseId {
  /** Length in bytes. */
  public static final int LENGTH = 4;

  private JobId(byte[] bytes) {
    super(bytes, LENGTH);
  }

  /** The job with the given number. */
  public static JobId of(int number) {
    return new JobId(ByteBuffer.allocate(LENGTH).putInt(number).array());
  }

  /** Parses {@link #toBytes()} output. */
  public static JobId fromBytes(byte[] bytes) {
    return new JobId(bytes);
  }

  /** The job number. */
  public int number() {
    return ByteBuffer.wrap(rawBytes()).getInt();
  }
}
