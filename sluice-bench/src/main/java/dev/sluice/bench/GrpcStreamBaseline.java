package dev.sluice.bench;

import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;

/**
 * grpc-java server streaming over TCP loopback with one message per item, server and channel from
 * the runtime's {@link RpcFactory} (direct executors). The service is defined by hand, a {@link
 * MethodDescriptor} with a {@code byte[]} marshaller, because the runtime has no server-streaming
 * RPC. The request is the item count {@code n} as a 4-byte int; the server sends {@code n} 4-byte
 * messages as fast as gRPC's flow control lets it ({@code isReady()} and the on-ready handler), and
 * the client reads them with {@code ClientCalls.blockingServerStreamingCall}. Items per second.
 */
public final class GrpcStreamBaseline {
  private static final String SERVICE = "sluice.bench.StreamBench";
  private static final int MAX_MESSAGE_BYTES = 64 << 20;

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  static final MethodDescriptor<byte[], byte[]> RANGE =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Range"))
          .setRequestMarshaller(BYTES)
          .setResponseMarshaller(BYTES)
          .build();

  private GrpcStreamBaseline() {}

  /** Items per second of one server stream, runtime config. */
  public static Measurement serverStreaming(int itemsPerRound, int warmUpRounds)
      throws IOException {
    RpcFactory rpc =
        new RpcFactory(MAX_MESSAGE_BYTES, RpcSecurity.token(RpcSecurity.generateToken()));
    BindableService service =
        () ->
            ServerServiceDefinition.builder(SERVICE)
                .addMethod(RANGE, ServerCalls.asyncServerStreamingCall(GrpcStreamBaseline::range))
                .build();
    Server server = rpc.startServer(RpcFactory.LOOPBACK, 0, List.of(service));
    ManagedChannel channel = rpc.newChannel(RpcFactory.LOOPBACK + ":" + server.getPort());
    String name = "grpc server streaming (runtime config)";
    return new ItemStreamMeasurement(
        name, itemsPerRound, warmUpRounds, Measurement.Unit.ITEMS_PER_SECOND) {
      @Override
      void stream(int n) {
        Iterator<byte[]> items =
            ClientCalls.blockingServerStreamingCall(
                channel, RANGE, CallOptions.DEFAULT, intBytes(n));
        long count = 0;
        while (items.hasNext()) {
          checkItem(name, count, ByteBuffer.wrap(items.next()).getInt());
          count++;
        }
        checkCount(name, count, n);
      }

      @Override
      public void close() {
        RpcFactory.shutdownQuietly(channel);
        RpcFactory.shutdownQuietly(server);
      }
    };
  }

  /** Sends {@code 0 .. n-1} while the transport is ready, resuming on each on-ready signal. */
  private static void range(byte[] request, StreamObserver<byte[]> observer) {
    int n = ByteBuffer.wrap(request).getInt();
    ServerCallStreamObserver<byte[]> out = (ServerCallStreamObserver<byte[]>) observer;
    Runnable drain =
        new Runnable() {
          private int next;
          private boolean done;

          @Override
          public void run() {
            while (!done && next < n && out.isReady()) {
              out.onNext(intBytes(next++));
            }
            if (!done && next == n) {
              done = true;
              out.onCompleted();
            }
          }
        };
    out.setOnCancelHandler(() -> {});
    out.setOnReadyHandler(drain);
    // Handlers of a call run one at a time (direct executor, serialized per call).
    drain.run();
  }

  private static byte[] intBytes(int v) {
    return ByteBuffer.allocate(4).putInt(v).array();
  }
}
