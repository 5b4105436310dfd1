package dev.sluice.runtime.objectmanager;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.UnsafeByteOperations;
import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.proto.ObjectChunk;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of one {@code PullObject} stream: sends a pinned object's bytes in chunks, one
 * chunk each time gRPC reports the stream ready, so the source holds at most about one chunk per
 * stream on its heap however slow the puller is.
 *
 * <p>Runs on transport threads (readiness and cancellation callbacks) and, for {@link #abort}, on
 * the closing thread; every use of the stream is under {@code this}. {@code onDone} runs exactly
 * once, before the stream's last message, and releases the pin.
 */
final class ChunkSender {
  private static final Logger log = LoggerFactory.getLogger(ChunkSender.class);

  private final ObjectId id;
  private final MemorySegment object;
  private final int chunkBytes;

  @GuardedBy("this")
  private final ServerCallStreamObserver<ObjectChunk> out;

  private final Consumer<ChunkSender> onDone;

  @GuardedBy("this")
  private long next;

  @GuardedBy("this")
  private boolean done;

  ChunkSender(
      ObjectId id,
      MemorySegment object,
      int chunkBytes,
      ServerCallStreamObserver<ObjectChunk> out,
      Consumer<ChunkSender> onDone) {
    this.id = id;
    this.object = object;
    this.chunkBytes = chunkBytes;
    this.out = out;
    this.onDone = onDone;
  }

  ObjectId objectId() {
    return id;
  }

  long size() {
    return object.byteSize();
  }

  /** Installs the stream callbacks and sends what the stream accepts now. */
  synchronized void start() {
    out.setOnCancelHandler(this::cancelled);
    out.setOnReadyHandler(this::send);
    send();
  }

  /** Ends the stream with {@code status} unless it already ended. */
  synchronized void abort(Status status) {
    if (finish()) {
      try {
        out.onError(status.asRuntimeException());
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
          Status.UNAVAILABLE.withDescription(
              "sending object " + id + " failed after " + next + " of " + size + " bytes: " + e));
    }
  }

  private synchronized void cancelled() {
    if (finish()) {
      log.debug("pull of object {} cancelled by the puller after {} bytes", id, next);
    }
  }

  /** Marks the stream ended; true (and releases the pin) only the first time. */
  @GuardedBy("this")
  private boolean finish() {
    if (done) {
      return false;
    }
    done = true;
    onDone.accept(this);
    return true;
  }
}
