package dev.sluice.runtime.objectmanager;

import com.google.protobuf.UnsafeByteOperations;
import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.proto.ObjectChunk;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of one {@code PullObject} stream (the adaptor owning that gRPC response stream):
 * once {@link #bind bound} to a pinned object and {@link #start started}, sends its bytes in
 * chunks, one chunk each time gRPC reports the stream ready, so the source holds at most about one
 * chunk per stream on its heap however slow the puller is. Failures ({@link
 * ObjectTransferException}) end the stream with the matching gRPC status ({@link #statusOf}).
 *
 * <p>Runs on transport threads (the handler that starts it, readiness and cancellation callbacks)
 * and, for {@link #abort}, on the closing thread; every use of the stream is under {@code this}.
 * {@code onDone} runs exactly once, before the stream's last message, and releases the pin.
 */
public final class ChunkSendStream {
  private static final Logger log = LoggerFactory.getLogger(ChunkSendStream.class);

  private final ServerCallStreamObserver<ObjectChunk> out;
  private ObjectId id;
  private MemorySegment object;
  private int chunkBytes;
  private Consumer<ChunkSendStream> onDone;
  private long next;
  private boolean done;

  /** The stream of a {@code PullObject} call, as its server handler got it. */
  public ChunkSendStream(StreamObserver<ObjectChunk> out) {
    this.out = (ServerCallStreamObserver<ObjectChunk>) out;
  }

  /**
   * The gRPC status of a failed transfer: the code of its {@link ObjectTransferException} kind and
   * its message as description; {@code UNKNOWN} for other failures.
   */
  public static Status statusOf(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ObjectTransferException e) {
        Status code =
            switch (e.kind()) {
              case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
              case NOT_FOUND -> Status.NOT_FOUND;
              case UNAVAILABLE -> Status.UNAVAILABLE;
              case DATA_LOSS -> Status.DATA_LOSS;
              case TOO_LARGE -> Status.OUT_OF_RANGE;
              case STORE_FULL -> Status.RESOURCE_EXHAUSTED;
              case INTERNAL -> Status.INTERNAL;
            };
        return code.withDescription(e.getMessage()).withCause(e.getCause());
      }
    }
    return Status.fromThrowable(t);
  }

  synchronized ObjectId objectId() {
    return id;
  }

  synchronized long size() {
    return object.byteSize();
  }

  /**
   * Binds the stream to {@code object} (object {@code id}, pinned until {@code onDone} runs, which
   * it does once the stream ends, {@link #abort} included), to be sent in chunks of {@code
   * chunkBytes}.
   */
  synchronized void bind(
      ObjectId id, MemorySegment object, int chunkBytes, Consumer<ChunkSendStream> onDone) {
    this.id = id;
    this.object = object;
    this.chunkBytes = chunkBytes;
    this.onDone = onDone;
  }

  /** Installs the stream callbacks and sends what the stream accepts now (after {@link #bind}). */
  synchronized void start() {
    out.setOnCancelHandler(this::cancelled);
    out.setOnReadyHandler(this::send);
    send();
  }

  /** Ends the stream with the status of {@code failure} unless it already ended. */
  synchronized void abort(ObjectTransferException failure) {
    if (finish()) {
      try {
        out.onError(statusOf(failure).asRuntimeException());
      } catch (RuntimeException e) {
        log.debug("could not fail the pull of {}: {}", id, e.toString());
      }
    }
  }

  private synchronized void send() {
    long size = object.byteSize();
    try {
      while (!done && next < size && out.isReady()) {
        int len = (int) Math.min(chunkBytes, size - next);
        // The chunk wraps the pinned store memory instead of copying it onto the heap: gRPC
        // serializes a message into its transport buffers within onNext, so the bytes are read
        // before this method returns, and the pin outlives every onNext (finish() releases it).
        ObjectChunk.Builder chunk =
            ObjectChunk.newBuilder()
                .setOffset(next)
                .setData(UnsafeByteOperations.unsafeWrap(object.asSlice(next, len).asByteBuffer()));
        if (next == 0) {
          chunk.setTotalSize(size);
        }
        next += len;
        out.onNext(chunk.build());
      }
      if (next == size && finish()) {
        out.onCompleted();
      }
    } catch (RuntimeException e) {
      log.warn("sending object {} failed after {} of {} bytes: {}", id, next, size, e.toString());
      abort(
          new ObjectTransferException(
              ObjectTransferException.Kind.UNAVAILABLE,
              "sending object " + id + " failed after " + next + " of " + size + " bytes: " + e));
    }
  }

  private synchronized void cancelled() {
    if (finish()) {
      log.debug("pull of object {} cancelled by the puller after {} bytes", id, next);
    }
  }

  /** Marks the stream ended; true (and releases the pin, once bound) only the first time. */
  private boolean finish() {
    if (done) {
      return false;
    }
    done = true;
    if (onDone != null) {
      onDone.accept(this);
    }
    return true;
  }
}
