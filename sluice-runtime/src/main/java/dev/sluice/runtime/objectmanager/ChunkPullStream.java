package dev.sluice.runtime.objectmanager;

import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectChunk;
import dev.sluice.runtime.rpc.proto.PullObjectRequest;
import io.grpc.CallOptions;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The puller's side of one {@code PullObject} call (the adaptor owning that gRPC stream): opens it
 * with flow control in the puller's hands, and hands what the transport delivers (chunks, the end,
 * a failure as a plain {@link Next.Failed}) to the one thread that reads it. Chunks are parsed by
 * the {@link ChunkMarshaller}.
 *
 * <p>The stream asks for {@code prefetch} chunks up front and for one more each time the reader
 * calls {@link #request}, so a slow reader holds at most that many chunks on the heap; gRPC's flow
 * control stops the source meanwhile.
 *
 * <p>Threads: transport threads only put what arrives in the inbox; {@link #next}, {@link #request}
 * and {@link #cancel} are called by the reading (pull) thread.
 */
final class ChunkPullStream {

  /** What the stream delivered next. */
  sealed interface Next {
    /** The next chunk. */
    record Chunk(ObjectChunk chunk) implements Next {}

    /** The source completed the stream. */
    record End() implements Next {}

    /**
     * The call failed: {@code notFound} if the source does not have the object; {@code detail}
     * names the status.
     */
    record Failed(boolean notFound, String detail) implements Next {}
  }

  private static final Next END = new Next.End();

  private final BlockingQueue<Next> inbox = new LinkedBlockingQueue<>();
  private volatile ClientCallStreamObserver<PullObjectRequest> call;

  private ChunkPullStream() {}

  /** Opens the call {@code request} to the node manager at {@code source}. */
  static ChunkPullStream open(
      ChannelPool channels, Address source, PullObjectRequest request, int prefetch) {
    ChunkPullStream s = new ChunkPullStream();
    ClientCalls.asyncServerStreamingCall(
        channels
            .get(Addresses.target(source))
            .newCall(ChunkMarshaller.PULL_OBJECT, CallOptions.DEFAULT),
        request,
        s.new Inbox(prefetch));
    return s;
  }

  /** The next delivery, waiting up to {@code timeout}; null if none came in time. */
  Next next(long timeout, TimeUnit unit) throws InterruptedException {
    return inbox.poll(timeout, unit);
  }

  /** Asks the source for {@code n} more chunks. */
  void request(int n) {
    call.request(n);
  }

  /** Cancels the call (the pull is abandoned), saying {@code why}. */
  void cancel(String why) {
    call.cancel(why, null);
  }

  /** Hands what the transport delivers to the reading thread. */
  private final class Inbox implements ClientResponseObserver<PullObjectRequest, ObjectChunk> {
    private final int prefetch;

    Inbox(int prefetch) {
      this.prefetch = prefetch;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<PullObjectRequest> stream) {
      call = stream;
      stream.disableAutoRequestWithInitial(prefetch);
    }

    @Override
    public void onNext(ObjectChunk chunk) {
      inbox.add(new Next.Chunk(chunk));
    }

    @Override
    public void onError(Throwable t) {
      Status s = Status.fromThrowable(t);
      inbox.add(
          new Next.Failed(
              s.getCode() == Status.Code.NOT_FOUND,
              s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription())));
    }

    @Override
    public void onCompleted() {
      inbox.add(END);
    }
  }
}
