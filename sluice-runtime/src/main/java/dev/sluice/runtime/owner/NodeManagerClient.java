package dev.sluice.runtime.owner;

import dev.sluice.runtime.rpc.Callbacks;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.CancelLeaseRequest;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ReturnWorkerReply;
import dev.sluice.runtime.rpc.proto.ReturnWorkerRequest;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * An owner's lease calls to node managers (Ray's raylet client, as the core worker uses it):
 * request, cancel and return worker leases, each an asynchronous unary call over the shared channel
 * to the node manager at the given target. The {@link LeaseRequester}'s seam to the transport.
 *
 * <p>Threads: thread-safe and stateless; calls return at once (they throw {@link
 * IllegalStateException} once the channel pool is closed). Replies, failures and the returned
 * futures' completions arrive on transport threads.
 */
final class NodeManagerClient implements LeaseRequester.NodeManagers {
  private final ChannelPool channels;

  NodeManagerClient(ChannelPool channels) {
    this.channels = channels;
  }

  @Override
  public void requestWorkerLease(
      String target, LeaseRequest request, Consumer<LeaseReply> reply, Consumer<Throwable> failed) {
    stub(target)
        .requestWorkerLease(
            request,
            new StreamObserver<>() {
              @Override
              public void onNext(LeaseReply value) {
                reply.accept(value);
              }

              @Override
              public void onError(Throwable t) {
                failed.accept(t);
              }

              @Override
              public void onCompleted() {}
            });
  }

  @Override
  public void cancelWorkerLease(String target, CancelLeaseRequest request) {
    stub(target).cancelWorkerLease(request, Callbacks.ignoreReply("cancelling a lease request"));
  }

  @Override
  public CompletableFuture<ReturnWorkerReply> returnWorker(
      String target, ReturnWorkerRequest request) {
    CompletableFuture<ReturnWorkerReply> reply = new CompletableFuture<>();
    stub(target).returnWorker(request, Callbacks.into(reply));
    return reply;
  }

  private NodeManagerServiceGrpc.NodeManagerServiceStub stub(String target) {
    return NodeManagerServiceGrpc.newStub(channels.get(target));
  }
}
