package dev.sluice.runtime.node;

import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import io.grpc.stub.StreamObserver;

/**
 * A lease request waiting for an answer at this node, since {@code arrivedNanos} ({@link
 * System#nanoTime}). Immutable; the queues holding it are guarded by the node manager's lock.
 */
record PendingLease(LeaseRequest request, StreamObserver<LeaseReply> reply, long arrivedNanos) {
  PendingLease(LeaseRequest request, StreamObserver<LeaseReply> reply) {
    this(request, reply, System.nanoTime());
  }
}
