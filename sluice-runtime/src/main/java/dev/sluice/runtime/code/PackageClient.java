package dev.sluice.runtime.code;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.DownloadPackageRequest;
import dev.sluice.runtime.rpc.proto.HasPackagesRequest;
import dev.sluice.runtime.rpc.proto.PackageChunk;
import dev.sluice.runtime.rpc.proto.UploadPackageReply;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The package calls to the control service: {@code HasPackages}, {@code UploadPackage} (a client
 * stream sent under the stream's flow control) and {@code DownloadPackage} (a server stream read
 * chunk by chunk). Failures of the head or the transport become {@link IOException}s naming the
 * package and the status.
 *
 * <p>Threads: every call blocks its caller; the upload's callbacks run on transport threads and
 * only complete a future or wake the uploading thread. Thread-safe: each call uses its own stream.
 */
public final class PackageClient {
  private final Supplier<? extends Channel> control;

  /** A client of the control service on the channel {@code control} returns at each call. */
  public PackageClient(Supplier<? extends Channel> control) {
    this.control = control;
  }

  /** A client of the control service on {@code control}. */
  public PackageClient(Channel control) {
    this(() -> control);
  }

  /**
   * The packages of {@code sha256s} the head does not have; waits up to 60 s.
   *
   * @throws RuntimeException if the head did not answer
   */
  public List<String> missing(Collection<String> sha256s) {
    return ControlServiceGrpc.newBlockingStub(control.get())
        .withDeadlineAfter(60, TimeUnit.SECONDS)
        .hasPackages(HasPackagesRequest.newBuilder().addAllSha256(sha256s).build())
        .getMissingList();
  }

  /** What a download hands over, chunk by chunk. */
  public interface ChunkSink {
    /** Takes the next chunk; the first one carries the package's total size. */
    void accept(PackageChunk chunk) throws IOException;
  }

  /**
   * Downloads package {@code sha256} in chunks of at most {@code maxChunkBytes} into {@code sink};
   * waits up to 10 minutes.
   *
   * @throws IOException if the head failed the download (e.g. it lacks the package) or {@code sink}
   *     threw
   */
  public void download(String sha256, int maxChunkBytes, ChunkSink sink) throws IOException {
    try {
      Iterator<PackageChunk> chunks =
          ControlServiceGrpc.newBlockingStub(control.get())
              .withDeadlineAfter(10, TimeUnit.MINUTES)
              .downloadPackage(
                  DownloadPackageRequest.newBuilder()
                      .setSha256(sha256)
                      .setMaxChunkBytes(maxChunkBytes)
                      .build());
      while (chunks.hasNext()) {
        sink.accept(chunks.next());
      }
    } catch (StatusRuntimeException e) {
      throw new IOException(
          "downloading package "
              + sha256
              + " from the head failed: "
              + e.getStatus().getCode()
              + " "
              + e.getStatus().getDescription(),
          e);
    }
  }

  /**
   * Uploads package {@code p} in chunks of {@code chunkBytes}, sending each when the stream is
   * ready, and waits (up to 10 minutes) for the head's verdict.
   *
   * @throws IOException if the head refused the package, the upload timed out or reading it failed
   */
  public void upload(CodePackager.CodePackage p, int chunkBytes) throws IOException {
    CompletableFuture<UploadPackageReply> result = new CompletableFuture<>();
    Object ready = new Object();
    ClientCallStreamObserver<PackageChunk>[] stream = new ClientCallStreamObserver[1];
    ControlServiceGrpc.newStub(control.get())
        .withDeadlineAfter(10, TimeUnit.MINUTES)
        .uploadPackage(
            new ClientResponseObserver<PackageChunk, UploadPackageReply>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<PackageChunk> requests) {
                stream[0] = requests;
                requests.setOnReadyHandler(
                    () -> {
                      synchronized (ready) {
                        ready.notifyAll();
                      }
                    });
              }

              @Override
              public void onNext(UploadPackageReply reply) {
                result.complete(reply);
              }

              @Override
              public void onError(Throwable t) {
                result.completeExceptionally(t);
                synchronized (ready) {
                  ready.notifyAll();
                }
              }

              @Override
              public void onCompleted() {}
            });
    ClientCallStreamObserver<PackageChunk> out = stream[0];
    long size = Files.size(p.file());
    try (InputStream in = Files.newInputStream(p.file())) {
      long sent = 0;
      boolean first = true;
      while (first || sent < size) {
        byte[] buf = in.readNBytes((int) Math.min(chunkBytes, size - sent));
        awaitReady(out, ready, result);
        if (result.isDone()) {
          break;
        }
        PackageChunk.Builder c = PackageChunk.newBuilder().setData(ByteString.copyFrom(buf));
        if (first) {
          c.setSha256(p.sha256()).setTotalSize(size);
          first = false;
        }
        out.onNext(c.build());
        sent += buf.length;
        if (buf.length == 0) {
          break;
        }
      }
      if (!result.isDone()) {
        out.onCompleted();
      }
    } catch (IOException | RuntimeException e) {
      out.cancel("upload failed", e);
      throw e;
    }
    try {
      result.get(10, TimeUnit.MINUTES);
    } catch (ExecutionException e) {
      throw new IOException(
          "the head refused package "
              + p.sha256()
              + " ("
              + p.source()
              + "): "
              + e.getCause().getMessage(),
          e.getCause());
    } catch (TimeoutException e) {
      throw new IOException(
          "uploading package " + p.sha256() + " (" + p.source() + ") timed out", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while uploading " + p.source(), e);
    }
  }

  private static void awaitReady(
      ClientCallStreamObserver<PackageChunk> out, Object ready, CompletableFuture<?> result)
      throws IOException {
    synchronized (ready) {
      while (!out.isReady() && !result.isDone()) {
        try {
          ready.wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while uploading", e);
        }
      }
    }
  }
}
