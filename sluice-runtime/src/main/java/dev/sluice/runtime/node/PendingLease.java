package dev.sluice.runtime.node;

/**
 * A lease request waiting for an answer at this node, since {@code arrivedNanos} ({@link
 * System#nanoTime}), answered through {@code reply}. Immutable; the queues holding it are guarded
 * by the node manager's lock.
 */
record PendingLease(WorkerLeaseRequest request, Reply reply, long arrivedNanos) {
  PendingLease(WorkerLeaseRequest request, Reply reply) {
    this(request, reply, System.nanoTime());
  }

  /**
   * Where a lease request's answer goes (the gRPC edge implements it). Called once, never under the
   * node manager's lock.
   */
  @FunctionalInterface
  interface Reply {
    /** Sends {@code outcome}; false if the caller is gone (its call was cancelled). */
    boolean send(LeaseOutcome outcome);
  }

  /** Answers the request; false if its caller is gone. */
  boolean answer(LeaseOutcome outcome) {
    return reply.send(outcome);
  }
}
