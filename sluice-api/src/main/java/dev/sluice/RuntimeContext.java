package dev.sluice;

import java.util.Optional;

/**
 * Where the calling code runs: inside a task on a worker, or in the driver. Obtained from {@link
 * Sluice#runtimeContext()}.
 */
public interface RuntimeContext {
  /** The job of the driver this code belongs to. */
  JobId jobId();

  /** The current task, or the driver's pseudo-task id when called in the driver. */
  TaskId taskId();

  /** The attempt number of the current task: 0 for the first run, +1 per retry. */
  int attemptNumber();

  /** The node this process runs on. */
  NodeId nodeId();

  /** This process's worker id (drivers have one too). */
  WorkerId workerId();

  /** True when called inside a task on a worker, false in the driver. */
  boolean isWorker();

  /** The actor whose method or constructor is running, or empty outside actors. */
  default Optional<ActorId> actorId() {
    return Optional.empty();
  }
}
