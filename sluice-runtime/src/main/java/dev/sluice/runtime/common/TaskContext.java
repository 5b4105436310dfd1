package dev.sluice.runtime.common;

import dev.sluice.ActorId;
import dev.sluice.JobId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The task some code runs in: its id and attempt, and the counters that derive the ids of the tasks
 * and objects it creates. Ids are deterministic per task: the k-th child of a task has the same id
 * in every attempt, which is what makes retries and lineage reconstruction land on the same
 * objects. Thread-safe.
 */
public final class TaskContext {
  private final TaskId taskId;
  private final int attemptNumber;
  private final String displayName;
  private final ActorId actorId;
  private final AtomicLong childCounter = new AtomicLong();
  private final AtomicInteger putCounter = new AtomicInteger();

  /** The context of a task attempt. */
  public TaskContext(TaskId taskId, int attemptNumber, String displayName) {
    this(taskId, attemptNumber, displayName, null);
  }

  /**
   * The context of a task attempt run by the actor {@code actorId} (its constructor or one of its
   * methods), or by no actor when it is null.
   */
  public TaskContext(TaskId taskId, int attemptNumber, String displayName, ActorId actorId) {
    this.taskId = taskId;
    this.attemptNumber = attemptNumber;
    this.displayName = displayName;
    this.actorId = actorId;
  }

  /** The driver's pseudo-task. */
  public static TaskContext forDriver(JobId job) {
    return new TaskContext(TaskId.forDriver(job), 0, "driver");
  }

  /** The task's id. */
  public TaskId taskId() {
    return taskId;
  }

  /** The attempt being run, from 0. */
  public int attemptNumber() {
    return attemptNumber;
  }

  /** The task's function, for messages. */
  public String displayName() {
    return displayName;
  }

  /** The actor whose constructor or method this task is, or empty. */
  public Optional<ActorId> actorId() {
    return Optional.ofNullable(actorId);
  }

  /** The id of the next task this task submits. */
  public TaskId nextChildTaskId() {
    return TaskId.forChild(taskId, childCounter.incrementAndGet());
  }

  /** The id of the next object this task puts. */
  public ObjectId nextPutId() {
    return ObjectId.of(taskId, ObjectId.PUT_INDEX_BASE + putCounter.incrementAndGet());
  }
}
