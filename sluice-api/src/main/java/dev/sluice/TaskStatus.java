package dev.sluice;

/**
 * Where a task attempt is in its life, as its owner and executor report it (Ray's {@code
 * TaskStatus}). A retry is a new attempt that starts again at {@link #PENDING_ARGS_AVAIL}.
 */
public enum TaskStatus {
  /** Submitted; waiting for its {@link ObjectRef} arguments to be ready. */
  PENDING_ARGS_AVAIL,
  /** Arguments ready; waiting for a node and worker to be granted. */
  PENDING_NODE_ASSIGNMENT,
  /** Sent to a leased worker; not yet running (queued on it). */
  SUBMITTED_TO_WORKER,
  /** Running on its worker (for a generator: producing items). */
  RUNNING,
  /** Returned (a generator: its stream ended) without error. Final. */
  FINISHED,
  /**
   * Ended with an error (see {@link TaskState#errorType()}): an exception, a dead worker or node, a
   * cancel. Final for this attempt; a retried task goes on as a new attempt.
   */
  FAILED
}
