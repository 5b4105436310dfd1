package dev.sluice.runtime.objectmanager;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ObjectChunk;
import dev.sluice.runtime.rpc.proto.PullObjectRequest;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses the puller's {@link ObjectChunk}s with one copy: the message is read into an array of its
 * exact size and its {@code data} aliases that array.
 *
 * <p>The generated marshaller takes that path only for messages up to 4 MiB; a chunk is 4 MiB of
 * data plus a few header bytes, so it would fall back to parsing from the stream, which reads in 4
 * KiB pieces and copies the data two more times (about 60% of the pulling node's CPU during a
 * transfer). Sending is unchanged (the generated marshaller), and so is the wire format.
 */
final class ChunkMarshaller implements MethodDescriptor.Marshaller<ObjectChunk> {
  /** {@code PullObject} as the puller calls it: same method, this response parser. */
  static final MethodDescriptor<PullObjectRequest, ObjectChunk> PULL_OBJECT;

  static {
    MethodDescriptor<PullObjectRequest, ObjectChunk> generated =
        NodeManagerServiceGrpc.getPullObjectMethod();
    PULL_OBJECT =
        generated.toBuilder(
                generated.getRequestMarshaller(),
                new ChunkMarshaller(generated.getResponseMarshaller()))
            .build();
  }

  private final MethodDescriptor.Marshaller<ObjectChunk> generated;

  private ChunkMarshaller(MethodDescriptor.Marshaller<ObjectChunk> generated) {
    this.generated = generated;
  }

  @Override
  public InputStream stream(ObjectChunk value) {
    return generated.stream(value);
  }

  @Override
  public ObjectChunk parse(InputStream stream) {
    if (!(stream instanceof KnownLength)) {
      return generated.parse(stream);
    }
    try {
      int size = stream.available();
      byte[] buf = new byte[size];
      int read = 0;
      while (read < size) {
        int n = stream.read(buf, read, size - read);
        if (n < 0) {
          throw new IOException("message ended after " + read + " of " + size + " bytes");
        }
        read += n;
      }
      // A ByteString over the array marks the input immutable, so aliasing applies to data.
      CodedInputStream in = UnsafeByteOperations.unsafeWrap(buf).newCodedInput();
      in.enableAliasing(true);
      in.setSizeLimit(Integer.MAX_VALUE);
      return ObjectChunk.parseFrom(in);
    } catch (IOException e) {
      throw Status.INTERNAL
          .withDescription("invalid object chunk: " + e.getMessage())
          .withCause(e)
          .asRuntimeException();
    }
  }
}
