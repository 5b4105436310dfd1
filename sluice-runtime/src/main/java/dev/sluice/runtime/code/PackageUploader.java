package dev.sluice.runtime.code;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.HasPackagesRequest;
import dev.sluice.runtime.rpc.proto.PackageChunk;
import dev.sluice.runtime.rpc.proto.UploadPackageReply;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A driver's side of code distribution: asks the head which of the job's packages it lacks and
 * uploads those, one at a time, in chunks under the transport's message limit and under the
 * stream's flow control.
 *
 * <p>Not thread-safe; used by one thread while a driver connects.
 */
public final class PackageUploader {
  private final ControlServiceGrpc.ControlServiceBlockingStub blocking;
  private final ControlServiceGrpc.ControlServiceStub async;
  private final int chunkBytes;

  /** An uploader to the control service on {@code channel}. */
  public PackageUploader(Channel channel, int maxMessageBytes) {
    this.blocking = ControlServiceGrpc.newBlockingStub(channel);
    this.async = ControlServiceGrpc.newStub(channel);
    this.chunkBytes = Math.max(4096, Math.min(PackageStreams.MAX_CHUNK_BYTES, maxMessageBytes / 2));
  }

  /** Uploads the packages the head does not have; returns how many were sent. */
  public int uploadMissing(List<CodePackager.CodePackage> packages) throws IOException {
    Map<String, CodePackager.CodePackage> byName =
        packages.stream()
            .collect(
                Collectors.toMap(
                    CodePackager.CodePackage::sha256, Function.identity(), (a, b) -> a));
    List<String> missing =
        blocking
            .withDeadlineAfter(60, TimeUnit.SECONDS)
            .hasPackages(HasPackagesRequest.newBuilder().addAllSha256(byName.keySet()).build())
            .getMissingList();
    for (String name : missing) {
      upload(byName.get(name));
    }
    return missing.size();
  }

  /** Uploads one package, waiting for the head's verdict. */
  public void upload(CodePackager.CodePackage p) throws IOException {
    CompletableFuture<UploadPackageReply> result = new CompletableFuture<>();
    Object ready = new Object();
    ClientCallStreamObserver<PackageChunk>[] stream = new ClientCallStreamObserver[1];
    async
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
    } catch (java.util.concurrent.TimeoutException e) {
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
