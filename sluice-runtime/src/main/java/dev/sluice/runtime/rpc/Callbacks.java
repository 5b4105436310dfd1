package dev.sluice.runtime.rpc;

import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Response observers for asynchronous unary calls: one that ignores the reply, one that hands it to
 * a future.
 */
public final class Callbacks {
  private static final Logger log = LoggerFactory.getLogger(Callbacks.class);

  private Callbacks() {}

  /**
   * An observer that ignores the reply and logs a failure at debug level: for notifications whose
   * loss the protocol tolerates (the peer is gone, or a later message supersedes it).
   */
  public static <T> StreamObserver<T> ignoreReply(String what) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {
        log.debug("{} failed: {}", what, t.toString());
      }

      @Override
      public void onCompleted() {}
    };
  }

  /** An observer that completes {@code reply} with the reply, or exceptionally with the error. */
  public static <T> StreamObserver<T> into(java.util.concurrent.CompletableFuture<T> reply) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        reply.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        reply.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }
}
