package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.logging.LogFiles;
import dev.sluice.runtime.rpc.proto.LogChunk;
import dev.sluice.runtime.rpc.proto.ReadLogRequest;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code ReadLog} call (DESIGN "Logs"): sends a log file of the node's session, from its last
 * lines or from a byte offset, in chunks of up to 64 KiB (each with its file position), as fast as
 * the caller takes them, then ends (after at most {@code max_bytes} if asked), or (with {@code
 * follow}) keeps sending what is appended, looking for more every {@value #FOLLOW_POLL_MILLIS} ms,
 * until the caller cancels.
 *
 * <p>Threads: each call reads on a virtual thread of its own; cancellation comes from a transport
 * thread through a flag.
 */
public final class LogReadStream {
  private static final Logger log = LoggerFactory.getLogger(LogReadStream.class);
  static final long FOLLOW_POLL_MILLIS = 250;
  private static final int CHUNK_BYTES = 64 * 1024;

  private LogReadStream() {}

  /** Answers {@code req} from {@code files} on {@code out}. */
  public static void serve(LogFiles files, ReadLogRequest req, StreamObserver<LogChunk> out) {
    LogFiles.Reader reader;
    try {
      reader =
          req.hasOffset()
              ? files.openAt(req.getName(), req.getOffset())
              : files.open(
                  req.getName(), req.getTailLines(), req.getFollow() ? 0 : req.getMaxBytes());
    } catch (IllegalArgumentException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (NoSuchFileException e) {
      out.onError(
          Status.NOT_FOUND
              .withDescription("no log file '" + req.getName() + "' on this node")
              .asRuntimeException());
      return;
    } catch (IOException e) {
      out.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
      return;
    }
    ServerCallStreamObserver<LogChunk> call = (ServerCallStreamObserver<LogChunk>) out;
    AtomicBoolean cancelled = new AtomicBoolean();
    call.setOnCancelHandler(() -> cancelled.set(true));
    Thread.ofVirtual()
        .name("sluice-log-reader")
        .start(() -> send(reader, req.getFollow(), maxBytes(req), call, cancelled));
  }

  /** The request's byte limit; none when following. */
  private static long maxBytes(ReadLogRequest req) {
    return req.getFollow() || req.getMaxBytes() <= 0 ? Long.MAX_VALUE : req.getMaxBytes();
  }

  private static void send(
      LogFiles.Reader reader,
      boolean follow,
      long maxBytes,
      ServerCallStreamObserver<LogChunk> call,
      AtomicBoolean cancelled) {
    ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES);
    long left = maxBytes;
    boolean sent = false;
    try (reader) {
      while (!cancelled.get()) {
        buf.clear();
        if (left < CHUNK_BYTES) {
          buf.limit((int) left);
        }
        long at = reader.position();
        int n = left > 0 ? reader.read(buf) : 0;
        if (n > 0) {
          while (!call.isReady() && !cancelled.get()) {
            Thread.sleep(5);
          }
          call.onNext(
              LogChunk.newBuilder().setData(ByteString.copyFrom(buf.flip())).setOffset(at).build());
          sent = true;
          left -= n;
        } else if (!follow) {
          if (!sent) {
            call.onNext(LogChunk.newBuilder().setOffset(reader.position()).build());
          }
          call.onCompleted();
          return;
        } else {
          Thread.sleep(FOLLOW_POLL_MILLIS);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      log.debug("reading a log for a caller failed: {}", e.toString());
      if (!cancelled.get()) {
        try {
          call.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        } catch (RuntimeException ignored) {
          // the call is gone
        }
      }
    }
  }
}
