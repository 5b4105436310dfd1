package dev.sluice.runtime.code;

import dev.sluice.runtime.rpc.proto.PackageChunk;
import dev.sluice.runtime.rpc.proto.UploadPackageReply;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The head's end of one {@code UploadPackage} stream: writes the chunks into the {@link
 * PackageStore} (a package the store already has is acknowledged without writing) and answers once
 * the whole package is verified. A rejected package (its bytes do not hash to its name) fails the
 * call with {@code INVALID_ARGUMENT}, a failing disk with {@code INTERNAL}.
 *
 * <p>Threads: its callbacks run on transport threads, one at a time (gRPC serializes them).
 */
public final class PackageReceiveStream implements StreamObserver<PackageChunk> {
  private static final Logger log = LoggerFactory.getLogger(PackageReceiveStream.class);

  private final PackageStore store;
  private final StreamObserver<UploadPackageReply> reply;
  private PackageStore.Upload upload;
  private boolean present;
  private boolean failed;

  /** The request observer of one upload into {@code store}, answered on {@code reply}. */
  public PackageReceiveStream(PackageStore store, StreamObserver<UploadPackageReply> reply) {
    this.store = store;
    this.reply = reply;
  }

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
      reply.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
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
}
