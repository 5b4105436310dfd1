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
  boolean blocked;

  Lease(
      ByteString id,
      WorkerProcess worker,
      Map<String, Double> resources,
      ByteString ownerWorkerId,
      ByteString ownerNodeId) {
    this.ownerWorkerId = ownerWorkerId;
    this.ownerNodeId = ownerNodeId;
    this.id = id;
    this.worker = worker;
    this.resources = resources;
  }
}
