package dev.sluice.runtime.node;

import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.CollectGarbageRequest;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.WorkersDiedRequest;
import io.grpc.stub.StreamObserver;
import java.util.function.Consumer;

/**
 * The notices a node manager sends to the core workers of its processes (Ray's core worker client,
 * as the raylet uses it): a worker exited, collect garbage. Each notice is an asynchronous unary
 * call over the shared channel to its target; the reply carries nothing, and a failure is handed to
 * the caller's {@code failed} callback.
 *
 * <p>Threads: thread-safe and stateless; calls return at once, and {@code failed} runs on a
 * transport thread (it must be short and never block).
 */
final class WorkerNoticeClient {
  private final ChannelPool channels;

  WorkerNoticeClient(ChannelPool channels) {
    this.channels = channels;
  }

  /** Tells the process at {@code target} that the workers of {@code request} died. */
  void workersDied(Address target, WorkersDiedRequest request, Consumer<Throwable> failed) {
    CoreWorkerServiceGrpc.newStub(channels.get(target)).workersDied(request, onFailure(failed));
  }

  /** Asks the process at {@code target} to collect garbage. */
  void collectGarbage(Address target, Consumer<Throwable> failed) {
    CoreWorkerServiceGrpc.newStub(channels.get(target))
        .collectGarbage(CollectGarbageRequest.getDefaultInstance(), onFailure(failed));
  }

  private static <T> StreamObserver<T> onFailure(Consumer<Throwable> failed) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {
        failed.accept(t);
      }

      @Override
      public void onCompleted() {}
    };
  }
}
