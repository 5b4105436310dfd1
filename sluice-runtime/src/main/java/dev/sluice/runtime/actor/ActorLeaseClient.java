package dev.sluice.runtime.actor;

import dev.sluice.runtime.rpc.Callbacks;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ReturnWorkerRequest;
import io.grpc.stub.StreamObserver;
import java.util.function.Consumer;

/**
 * {@link ActorLeaser.NodeLeases} over the node managers' gRPC service. A node manager that cannot
 * be reached answers as a rejection naming it. Replies arrive on transport threads.
 */
final class ActorLeaseClient implements ActorLeaser.NodeLeases {
  private final ChannelPool channels;

  ActorLeaseClient(ChannelPool channels) {
    this.channels = channels;
  }

  @Override
  public void request(String target, LeaseRequest request, Consumer<LeaseReply> reply) {
    NodeManagerServiceGrpc.newStub(channels.get(target))
        .requestWorkerLease(
            request,
            new StreamObserver<>() {
              @Override
              public void onNext(LeaseReply r) {
                reply.accept(r);
              }

              @Override
              public void onError(Throwable t) {
                reply.accept(
                    LeaseReply.newBuilder()
                        .setRejected(true)
                        .setFailureMessage("node manager at " + target + " unreachable: " + t)
                        .build());
              }

              @Override
              public void onCompleted() {}
            });
  }

  @Override
  public void returnWorker(String target, ReturnWorkerRequest request) {
    NodeManagerServiceGrpc.newStub(channels.get(target))
        .returnWorker(request, Callbacks.ignoreReply("returning an actor's lease"));
  }
}
