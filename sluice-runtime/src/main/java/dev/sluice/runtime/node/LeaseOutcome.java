package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.Address;

/**
 * The answer to a lease request, as the node's scheduling decides it; turned into the protocol's
 * reply at the gRPC edge ({@link NodeManagerGrpcService}). Immutable.
 */
sealed interface LeaseOutcome {

  /** Granted: lease {@code leaseId} of the worker at {@code worker}, process {@code pid}. */
  record Granted(ByteString leaseId, Address worker, long pid) implements LeaseOutcome {}

  /** Not granted here: the owner should ask the node manager at {@code nodeManager}. */
  record Spillback(Address nodeManager) implements LeaseOutcome {}

  /** Rejected for {@code reason}, explained by {@code message}. */
  record Rejected(Reason reason, String message) implements LeaseOutcome {}

  /** Why a request was rejected. */
  enum Reason {
    /** The node cannot serve it now (shutting down, workers fail to start, code unavailable). */
    FAILED,
    /** No node of the cluster has the resources. */
    INFEASIBLE,
    /** The node its hard affinity names is dead or unknown. */
    NODE_DIED,
    /** Its owner cancelled it. */
    CANCELLED
  }
}
