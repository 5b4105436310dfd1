package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.ActorDiedException;
import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.ActorState;
import dev.sluice.runtime.rpc.proto.ActorWorkerDiedRequest;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.FinishJobRequest;
import dev.sluice.runtime.rpc.proto.GetJobReply;
import dev.sluice.runtime.rpc.proto.GetJobRequest;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatReply;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.RegisterNodeRequest;
import dev.sluice.runtime.rpc.proto.UnregisterNodeRequest;
import dev.sluice.runtime.rpc.proto.UpdateActorRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A node manager's calls to the control service (Ray's raylet-to-GCS client): registering and
 * unregistering the node, its heartbeat, a job's code packages and finishing a job. Every call is a
 * blocking unary call with a deadline over the node's shared channel to the control service; a
 * refused registration of a node declared dead becomes a {@link NodeDeclaredDeadException}, other
 * failures propagate as the transport's unchecked exceptions.
 *
 * <p>Threads: thread-safe and stateless; each call blocks its caller (the node's scheduler thread,
 * the starting or closing thread, a job-code virtual thread, a process-handle thread) until the
 * reply or the deadline. Never call it holding the node manager's lock.
 */
final class ControlClient {
  private static final Duration DEADLINE = Duration.ofSeconds(10);

  private final ChannelPool channels;
  private final String controlTarget;

  ControlClient(ChannelPool channels, String controlTarget) {
    this.channels = channels;
    this.controlTarget = controlTarget;
  }

  /**
   * Registers (or registers again) node {@code info}.
   *
   * @throws NodeDeclaredDeadException if the control service declared the node dead
   */
  void registerNode(NodeInfo info) {
    try {
      stub(DEADLINE).registerNode(RegisterNodeRequest.newBuilder().setNode(info).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
        throw new NodeDeclaredDeadException(e.getMessage(), e.getStatus().getDescription(), e);
      }
      throw e;
    }
  }

  /** Tells the control service the node stops, waiting at most {@code deadline}. */
  void unregisterNode(ByteString nodeId, String reason, Duration deadline) {
    stub(deadline)
        .unregisterNode(
            UnregisterNodeRequest.newBuilder().setNodeId(nodeId).setReason(reason).build());
  }

  /** Sends one heartbeat, waiting at most {@code deadline} for the reply. */
  NodeHeartbeatReply heartbeat(NodeHeartbeatRequest request, Duration deadline) {
    return stub(deadline).nodeHeartbeat(request);
  }

  /** The control service's record of job {@code job} (its code packages). */
  GetJobReply getJob(ByteString job) {
    return stub(DEADLINE).getJob(GetJobRequest.newBuilder().setJobId(job).build());
  }

  /** Finishes job {@code job} (every node frees its objects), saying {@code reason}. */
  void finishJob(ByteString job, String reason) {
    stub(DEADLINE).finishJob(FinishJobRequest.newBuilder().setJobId(job).setReason(reason).build());
  }

  /**
   * Reports that the worker hosting actor {@code actorId} exited (DESIGN "Actors"), on a thread of
   * the caller's; the actor table decides whether it restarts.
   */
  void reportActorWorkerDied(ByteString actorId, WorkerId worker, String detail) {
    stub(DEADLINE)
        .reportActorWorkerDied(
            ActorWorkerDiedRequest.newBuilder()
                .setActorId(actorId)
                .setWorkerId(ByteString.copyFrom(worker.toBytes()))
                .setDetail(detail)
                .build());
  }

  /**
   * Reports that owned actor {@code actorId} lost its creator, worker {@code creator} on this node
   * (DESIGN "Actors"): it dies with it.
   */
  void reportCreatorLost(ByteString actorId, WorkerId creator, NodeId node) {
    try {
      stub(DEADLINE)
          .updateActor(
              UpdateActorRequest.newBuilder()
                  .setActorId(actorId)
                  .setState(ActorState.ACTOR_STATE_DEAD)
                  .setDeathCause(
                      Errors.actorDied(
                          ActorDiedException.Reason.OWNER_DIED,
                          "its creator, worker " + creator + " on node " + node + ", died",
                          null))
                  .build());
    } catch (StatusRuntimeException e) {
      // The actor's own worker reports its creator's death too, when its stream breaks.
    }
  }

  private ControlServiceGrpc.ControlServiceBlockingStub stub(Duration deadline) {
    return ControlServiceGrpc.newBlockingStub(channels.get(controlTarget))
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }
}
