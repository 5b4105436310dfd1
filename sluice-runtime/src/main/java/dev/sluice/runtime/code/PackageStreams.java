package dev.sluice.runtime.code;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.DownloadPackageRequest;
import dev.sluice.runtime.rpc.proto.PackageChunk;
import dev.sluice.runtime.rpc.proto.UploadPackageReply;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control service's side of the package RPCs: receives an {@code UploadPackage} stream into the
 * {@link PackageStore} and sends a {@code DownloadPackage} stream from it, one chunk each time gRPC
 * reports the stream ready (so a slow node costs the head about one chunk of heap).
 *
 * <p>Threads: each stream's callbacks run on transport threads, one at a time per stream (gRPC
 * serializes them); a download's state is guarded by its sender's monitor because readiness and
 * cancellation callbacks may race.
 */
public final class PackageStreams {
  private static final Logger log = LoggerFactory.getLogger(PackageStreams.class);

  /** The largest chunk sent, whatever the receiver accepts. */
  public static final int MAX_CHUNK_BYTES = 1 << 20;

  private final PackageStore store;

  /** Streams for {@code store}. */
  public PackageStreams(PackageStore store) {
    this.store = store;
  }

  /** The request observer of one {@code UploadPackage} call answered on {@code reply}. */
  public StreamObserver<PackageChunk> receive(StreamObserver<UploadPackageReply> reply) {
    return new StreamObserver<>() {
      private PackageStore.Upload upload;
      private boolean present;
      private boolean failed;

      @Override
      public void onNext(PackageChunk chunk) {
        if (failed || present) {
          return;
        }
        try {
          if (upload == null) {
            if (store.find(chunk.getSha256()) != null) {
              present = true;
              return;
            }
            upload = store.begin(chunk.getSha256(), chunk.getTotalSize());
          }
          upload.write(chunk.getData().toByteArray());
        } catch (IllegalArgumentException e) {
          fail(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
        } catch (IOException e) {
          fail(
              Status.INTERNAL.withDescription(
                  "the head could not store package " + chunk.getSha256() + ": " + e.getMessage()));
        }
      }

      private void fail(Status status) {
        failed = true;
        if (upload != null) {
          upload.abort();
        }
        reply.onError(status.asRuntimeException());
      }

      @Override
      public void onError(Throwable t) {
        if (upload != null) {
          upload.abort();
        }
      }

      @Override
      public void onCompleted() {
        if (failed) {
          return;
        }
        if (upload == null && !present) {
          fail(Status.INVALID_ARGUMENT.withDescription("an upload without any chunk"));
          return;
        }
        try {
          if (upload != null) {
            upload.finish();
          }
        } catch (IllegalArgumentException e) {
          log.warn("upload rejected: {}", e.getMessage());
          failed = true;
          reply.onError(
              Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
          return;
        } catch (IOException e) {
          failed = true;
          reply.onError(
              Status.INTERNAL
                  .withDescription("the head could not store a package: " + e.getMessage())
                  .asRuntimeException());
          return;
        }
        reply.onNext(UploadPackageReply.newBuilder().setAlreadyPresent(present).build());
        reply.onCompleted();
      }
    };
  }

  /**
   * Answers one {@code DownloadPackage} call: the stream's callbacks are installed at once (gRPC
   * allows it only during the call), the package is looked up on a virtual thread (the first
   * look-up may index the head's class path).
   */
  public void send(DownloadPackageRequest req, StreamObserver<PackageChunk> out) {
    int chunk =
        req.getMaxChunkBytes() > 0
            ? Math.min(MAX_CHUNK_BYTES, req.getMaxChunkBytes())
            : MAX_CHUNK_BYTES;
    Sender sender =
        new Sender(req.getSha256(), chunk, (ServerCallStreamObserver<PackageChunk>) out);
    sender.out.setOnCancelHandler(sender::cancelled);
    sender.out.setOnReadyHandler(sender::send);
    Thread.ofVirtual().name("sluice-package-download").start(sender::open);
  }

  private final class Sender {
    private final String sha256;
    private final int chunkBytes;
    private final ServerCallStreamObserver<PackageChunk> out;

    @GuardedBy("this")
    private InputStream in;

    @GuardedBy("this")
    private long size;

    @GuardedBy("this")
    private long sent;

    @GuardedBy("this")
    private boolean done;

    Sender(String sha256, int chunkBytes, ServerCallStreamObserver<PackageChunk> out) {
      this.sha256 = sha256;
      this.chunkBytes = chunkBytes;
      this.out = out;
    }

    void open() {
      Status failure;
      try {
        Path file = store.find(sha256);
        if (file != null) {
          synchronized (this) {
            if (done) {
              return;
            }
            size = Files.size(file);
            in = Files.newInputStream(file);
          }
          send();
          return;
        }
        failure = Status.NOT_FOUND.withDescription("the head has no package " + sha256);
      } catch (IOException | RuntimeException e) {
        failure =
            Status.INTERNAL.withDescription(
                "the head cannot read package " + sha256 + ": " + e.getMessage());
      }
      synchronized (this) {
        if (!done) {
          done = true;
          try {
            out.onError(failure.asRuntimeException());
          } catch (RuntimeException ignored) {
            // the downloader is gone
          }
        }
      }
    }

    private synchronized void send() {
      if (in == null) {
        return; // not open yet: open() sends
      }
      try {
        while (!done && out.isReady()) {
          byte[] buf = in.readNBytes((int) Math.min(chunkBytes, size - sent));
          PackageChunk.Builder c = PackageChunk.newBuilder().setData(ByteString.copyFrom(buf));
          if (sent == 0) {
            c.setSha256(sha256).setTotalSize(size);
          }
          sent += buf.length;
          out.onNext(c.build());
          if (sent >= size || buf.length == 0) {
            finish();
            store.countDownload();
            out.onCompleted();
          }
        }
      } catch (IOException | RuntimeException e) {
        if (!done) {
          finish();
          try {
            out.onError(
                Status.INTERNAL
                    .withDescription("sending package " + sha256 + " failed: " + e)
                    .asRuntimeException());
          } catch (RuntimeException ignored) {
            // the downloader is gone
          }
        }
      }
    }

    private synchronized void cancelled() {
      finish();
    }

    @GuardedBy("this")
    private void finish() {
      if (!done) {
        done = true;
        if (in == null) {
          return;
        }
        try {
          in.close();
        } catch (IOException ignored) {
          // read-only
        }
      }
    }
  }
}
