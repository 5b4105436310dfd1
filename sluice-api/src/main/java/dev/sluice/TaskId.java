package dev.sluice;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Identifies one task (16 bytes): the job id followed by 12 bytes derived from the parent task's id
 * and the parent's submission counter. Derivation is deterministic, so the same submission sequence
 * gives the same ids; a retry keeps its task id and increments the attempt number.
 */
public final class TaskId extends BaseId {
  /** Length in bytes. */
  public static final int LENGTH = 16;

  private TaskId(byte[] bytes) {
    super(bytes, LENGTH);
  }

  /** Parses {@link #toBytes()} output. */
  public static TaskId fromBytes(byte[] bytes) {
    return new TaskId(bytes);
  }

  /** The pseudo-task of a job's driver: the job id followed by zeros. */
  public static TaskId forDriver(JobId job) {
    return new TaskId(ByteBuffer.allocate(LENGTH).put(job.rawBytes()).array());
  }

  /** The id of the {@code counter}-th task submitted by {@code parent} (counter starts at 1). */
  public static TaskId forChild(TaskId parent, long counter) {
    byte[] p = parent.rawBytes();
    // Two rounds of a 64-bit mix over (parent, counter) fill the 12 derived bytes.
    long h1 = mix(ByteBuffer.wrap(p, 4, 8).getLong() ^ mix(counter));
    long h2 = mix(ByteBuffer.wrap(p, 12, 4).getInt() ^ h1 ^ 0x9E3779B97F4A7C15L * (counter + 1));
    byte[] out = Arrays.copyOf(p, LENGTH);
    ByteBuffer.wrap(out, 4, 12).putLong(h1).putInt((int) h2);
    return new TaskId(out);
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The job this task belongs to. */
  public JobId jobId() {
    return JobId.fromBytes(Arrays.copyOf(rawBytes(), JobId.LENGTH));
  }
}
