package dev.sluice.runtime.core;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.Callbacks;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.BorrowerUpdate;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.GetObjectReply;
import dev.sluice.runtime.rpc.proto.GetObjectRequest;
import dev.sluice.runtime.rpc.proto.UpdateBorrowersReply;
import dev.sluice.runtime.rpc.proto.UpdateBorrowersRequest;
import java.util.concurrent.CompletableFuture;

/**
 * The calls one core worker makes to another's {@code CoreWorkerService} as owner or borrower of
 * objects: {@code UpdateBorrowers} (DESIGN "Reference counting", one update per call; it is this
 * process's {@link dev.sluice.runtime.owner.ReferenceCounter.BorrowerUpdates}) and {@code
 * GetObject} (the long poll for an object's value). Each call's outcome is a future, failed with
 * the transport's error when the peer cannot be reached.
 *
 * <p>Threads: any thread; never blocks; the futures complete on transport threads.
 */
final class CoreWorkerClient {
  private final ChannelPool channels;

  CoreWorkerClient(ChannelPool channels) {
    this.channels = channels;
  }

  /**
   * Adds {@code delta} borrows of {@code id} by the process at {@code borrower} at the object's
   * owner; completes when the owner has applied it.
   */
  CompletableFuture<Void> updateBorrowers(Address owner, ObjectId id, Address borrower, int delta) {
    CompletableFuture<UpdateBorrowersReply> reply = new CompletableFuture<>();
    UpdateBorrowersRequest req =
        UpdateBorrowersRequest.newBuilder()
            .addUpdates(
                BorrowerUpdate.newBuilder()
                    .setObjectId(ByteString.copyFrom(id.toBytes()))
                    .setBorrowerWorkerId(borrower.getWorkerId())
                    .setBorrowerNodeId(borrower.getNodeId())
                    .setDelta(delta))
            .build();
    try {
      CoreWorkerServiceGrpc.newStub(channels.get(owner))
          .updateBorrowers(req, Callbacks.into(reply));
    } catch (RuntimeException e) {
      reply.completeExceptionally(e);
    }
    return reply.thenApply(r -> null);
  }

  /**
   * Asks the owner at {@code owner} for the value of object {@code objectId}: the reply comes when
   * the value is ready (at once if it is).
   */
  CompletableFuture<GetObjectReply> getObject(Address owner, ByteString objectId) {
    CompletableFuture<GetObjectReply> reply = new CompletableFuture<>();
    CoreWorkerServiceGrpc.newStub(channels.get(owner))
        .getObject(
            GetObjectRequest.newBuilder().setObjectId(objectId).build(), Callbacks.into(reply));
    return reply;
  }
}
