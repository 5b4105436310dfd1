package dev.sluice.runtime.core;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.BorrowerUpdate;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.UpdateBorrowersReply;
import dev.sluice.runtime.rpc.proto.UpdateBorrowersRequest;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/**
 * Sends the reference table's borrower updates to the owners of borrowed objects ({@code
 * UpdateBorrowers}, DESIGN "Reference counting"), one update per call.
 *
 * <p>Threads: any thread (the reference table calls it from user, task and cleaner threads); never
 * blocks; the returned futures complete on transport threads.
 */
final class BorrowerUpdateSender implements ReferenceCounter.BorrowerUpdates {
  private final ChannelPool channels;

  BorrowerUpdateSender(ChannelPool channels) {
    this.channels = channels;
  }

  @Override
  public CompletableFuture<Void> send(Address owner, ObjectId id, Address borrower, int delta) {
    CompletableFuture<Void> done = new CompletableFuture<>();
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
      CoreWorkerServiceGrpc.newStub(channels.get(Addresses.target(owner)))
          .updateBorrowers(
              req,
              new StreamObserver<>() {
                @Override
                public void onNext(UpdateBorrowersReply reply) {}

                @Override
                public void onError(Throwable t) {
                  done.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                  done.complete(null);
                }
              });
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
    }
    return done;
  }
}
