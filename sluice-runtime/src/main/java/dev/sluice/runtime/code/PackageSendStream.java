package dev.sluice.runtime.code;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.DownloadPackageRequest;
import dev.sluice.runtime.rpc.proto.PackageChunk;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The head's end of one {@code DownloadPackage} stream: sends a package from the {@link
 * PackageStore}, one chunk each time gRPC reports the stream ready (so a slow node costs the head
 * about one chunk of heap). A package the head lacks fails the call with {@code NOT_FOUND}, a
 * failing disk with {@code INTERNAL}.
 *
 * <p>Threads: the package is looked up and opened on a virtual thread (the first look-up may index
 * the head's class path); chunks are then sent on transport threads as the stream becomes ready.
 * Its state is guarded by its monitor because readiness and cancellation callbacks may race.
 */
public final class PackageSendStream {
  /** The largest chunk sent, whatever the receiver accepts. */
  public static final int MAX_CHUNK_BYTES = 1 << 20;

  /**
   * Answers one {@code DownloadPackage} call from {@code store}: the stream's callbacks are
   * installed at once (gRPC allows it only during the call), the package is looked up on a virtual
   * thread.
   */
  public static void start(
      PackageStore store, DownloadPackageRequest req, StreamObserver<PackageChunk> out) {
    int chunk =
        req.getMaxChunkBytes() > 0
            ? Math.min(MAX_CHUNK_BYTES, req.getMaxChunkBytes())
            : MAX_CHUNK_BYTES;
    PackageSendStream sender =
        new PackageSendStream(
            store, req.getSha256(), chunk, (ServerCallStreamObserver<PackageChunk>) out);
    sender.out.setOnCancelHandler(sender::cancelled);
    sender.out.setOnReadyHandler(sender::send);
    Thread.ofVirtual().name("sluice-package-download").start(sender::open);
  }

  private final PackageStore store;
  private final String sha256;
  private final int chunkBytes;
  private final ServerCallStreamObserver<PackageChunk> out;
  private InputStream in;
  private long size;
  private long sent;
  private boolean done;

  private PackageSendStream(
      PackageStore store,
      String sha256,
      int chunkBytes,
      ServerCallStreamObserver<PackageChunk> out) {
    this.store = store;
    this.sha256 = sha256;
    this.chunkBytes = chunkBytes;
    this.out = out;
  }

  private void open() {
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
