package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import java.util.Map;

/**
 * A lease request as the node's scheduling sees it: what the owner asks for, converted from the
 * protocol message at the gRPC edge ({@link NodeManagerGrpcService}). Immutable.
 *
 * @param id the request's id, chosen by the owner (for cancels and logs)
 * @param resources the amounts the lease needs, as asked (see {@link Resources#need})
 * @param jobId the job of the tasks the lease is for; empty: the node's own class path
 * @param ownerWorkerId the worker that owns the tasks (its leases are released if it dies)
 * @param ownerNodeId the node the owner runs on (its leases are released if the node dies)
 * @param displayName the name of the next task, for messages
 * @param spillbackCount how often the request was sent on; 1 or more: served where it lands
 * @param affinity the node the request must or would rather run on, or null
 * @param actorId the actor the lease is for (DESIGN "Actors"), or empty for tasks
 * @param detached whether that actor outlives its creator
 */
record WorkerLeaseRequest(
    ByteString id,
    Map<String, Double> resources,
    ByteString jobId,
    ByteString ownerWorkerId,
    ByteString ownerNodeId,
    String displayName,
    int spillbackCount,
    Affinity affinity,
    ByteString actorId,
    boolean detached) {

  WorkerLeaseRequest {
    resources = Map.copyOf(resources);
  }

  /** A request for tasks (not for an actor). */
  WorkerLeaseRequest(
      ByteString id,
      Map<String, Double> resources,
      ByteString jobId,
      ByteString ownerWorkerId,
      ByteString ownerNodeId,
      String displayName,
      int spillbackCount,
      Affinity affinity) {
    this(
        id,
        resources,
        jobId,
        ownerWorkerId,
        ownerNodeId,
        displayName,
        spillbackCount,
        affinity,
        ByteString.EMPTY,
        false);
  }

  /**
   * A lease for an actor (DESIGN "Actors"): a worker of its own, outside the worker bound, never
   * pooled again; its death is reported to the control service.
   */
  boolean forActor() {
    return !actorId.isEmpty();
  }

  /** Run on node {@code nodeId} ({@code soft}: preferably, a hint on the first hop only). */
  record Affinity(ByteString nodeId, boolean soft) {}

  boolean hasAffinity() {
    return affinity != null;
  }
}
