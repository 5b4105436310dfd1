package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import java.util.Map;

/**
 * A granted lease of {@code worker}: {@code resources} of the node, charged unless {@code blocked}
 * (the worker's tasks all wait, so the lease's CPU is lent). {@code blocked} is guarded by the node
 * manager's lock.
 */
final class Lease {
  final ByteString id;
  final WorkerProcess worker;
  final Map<String, Double> resources;
  final ByteString ownerWorkerId;
  final ByteString ownerNodeId;

  /** The actor whose worker this is (DESIGN "Actors"), or empty for a task lease. */
  final ByteString actorId;

  /** The actor outlives its creator: the lease is not released when the creator dies. */
  final boolean detached;

  boolean blocked;

  Lease(
      ByteString id,
      WorkerProcess worker,
      Map<String, Double> resources,
      ByteString ownerWorkerId,
      ByteString ownerNodeId) {
    this(id, worker, resources, ownerWorkerId, ownerNodeId, ByteString.EMPTY, false);
  }

  Lease(
      ByteString id,
      WorkerProcess worker,
      Map<String, Double> resources,
      ByteString ownerWorkerId,
      ByteString ownerNodeId,
      ByteString actorId,
      boolean detached) {
    this.actorId = actorId;
    this.detached = detached;
    this.ownerWorkerId = ownerWorkerId;
    this.ownerNodeId = ownerNodeId;
    this.id = id;
    this.worker = worker;
    this.resources = resources;
  }
}
