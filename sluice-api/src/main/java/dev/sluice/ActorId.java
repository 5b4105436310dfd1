package dev.sluice;

import java.util.Arrays;

/**
 * Identifies an actor for its whole life, across restarts. Its bytes are those of the actor's
 * creation task id, so the job that created it is its first four bytes.
 */
public final class ActorId extends BaseId {
  /** Length in bytes. */
  public static final int LENGTH = TaskId.LENGTH;

  private ActorId(byte[] bytes) {
    super(bytes, LENGTH);
  }

  /** The id of the actor whose creation task is {@code creationTask}. */
  public static ActorId of(TaskId creationTask) {
    return new ActorId(creationTask.toBytes());
  }

  /** Parses {@link #toBytes()} output. */
  public static ActorId fromBytes(byte[] bytes) {
    return new ActorId(bytes);
  }

  /** Parses {@link #hex()} output. */
  public static ActorId fromHex(String hex) {
    return new ActorId(parseHex(hex));
  }

  /** The task that creates (and on restart re-creates) the actor. */
  public TaskId creationTaskId() {
    return TaskId.fromBytes(toBytes());
  }

  /** The job whose driver or task created the actor. */
  public JobId jobId() {
    return JobId.fromBytes(Arrays.copyOf(rawBytes(), JobId.LENGTH));
  }
}
