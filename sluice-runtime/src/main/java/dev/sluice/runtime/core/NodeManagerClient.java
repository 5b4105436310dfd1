package dev.sluice.runtime.core;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.Callbacks;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.DeleteObjectsRequest;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.NodeStatsRequest;
import dev.sluice.runtime.rpc.proto.ReturnWorkerRequest;
import dev.sluice.runtime.rpc.proto.WorkerBlockedRequest;
import io.grpc.Context;
import java.util.concurrent.TimeUnit;

/**
 * The calls a core worker makes to node managers outside leasing: telling its own node manager that
 * its tasks are blocked (lending its CPU) or that it gives a lease back, deleting an object's copy
 * in another node's store, and checking that a node manager answers.
 *
 * <p>Threads: any thread. {@link #notifyWorkerBlocked} and {@link #reachable} block for the answer
 * (up to their deadlines); the others only send, and their failures are logged at debug level (the
 * protocol tolerates their loss).
 */
final class NodeManagerClient {
  private final ChannelPool channels;

  NodeManagerClient(ChannelPool channels) {
    this.channels = channels;
  }

  /**
   * Tells the node manager at {@code target} that every task of worker {@code worker} is blocked
   * ({@code true}) or that one runs again; waits up to 10 s for the answer.
   *
   * @throws RuntimeException if the node manager did not answer
   */
  void notifyWorkerBlocked(String target, WorkerId worker, boolean blocked) {
    NodeManagerServiceGrpc.newBlockingStub(channels.get(target))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .notifyWorkerBlocked(
            WorkerBlockedRequest.newBuilder()
                .setWorkerId(ByteString.copyFrom(worker.toBytes()))
                .setBlocked(blocked)
                .build());
  }

  /**
   * Gives the lease {@code leaseId} of worker {@code worker} back to the node manager at {@code
   * target}, without waiting. Safe to call from a cancelled call's callback: the call does not
   * inherit its context.
   */
  void returnWorker(String target, WorkerId worker, ByteString leaseId, String what) {
    Context.ROOT.run(
        () ->
            NodeManagerServiceGrpc.newStub(channels.get(target))
                .returnWorker(
                    ReturnWorkerRequest.newBuilder()
                        .setWorkerId(ByteString.copyFrom(worker.toBytes()))
                        .setLeaseId(leaseId)
                        .build(),
                    Callbacks.ignoreReply(what)));
  }

  /** Deletes the copy of {@code id} in the store of the node manager at {@code target}. */
  void deleteObject(String target, ObjectId id, String what) {
    NodeManagerServiceGrpc.newStub(channels.get(target))
        .deleteObjects(
            DeleteObjectsRequest.newBuilder()
                .addObjectIds(ByteString.copyFrom(id.toBytes()))
                .build(),
            Callbacks.ignoreReply(what));
  }

  /** Whether the node manager at {@code target} answers within two seconds. */
  boolean reachable(String target) {
    try {
      NodeManagerServiceGrpc.newBlockingStub(channels.get(target))
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .getNodeStats(NodeStatsRequest.getDefaultInstance());
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }
}
