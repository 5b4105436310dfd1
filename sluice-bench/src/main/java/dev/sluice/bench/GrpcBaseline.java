package dev.sluice.bench;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.KvGetReply;
import dev.sluice.runtime.rpc.proto.KvGetRequest;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Raw grpc-java round trips over TCP loopback, the transport Sluice is built on, without any of
 * Sluice's logic. They show how much of a Sluice task's latency the transport alone costs.
 *
 * <ul>
 *   <li>{@link #unaryRuntimeConfig}: a blocking unary call through a server and a channel made by
 *       the runtime's own {@link RpcFactory} (direct executors, the runtime's limits and
 *       keep-alives), with the runtime's generated {@code ControlService.KvGet} echoing the key.
 *   <li>{@link #unaryDefaultConfig}: the same call with gRPC's default server and channel (each
 *       with its own thread pool): what the direct executors save.
 *   <li>{@link #bidiStreamRuntimeConfig}: a ping-pong on one long-lived bidirectional stream
 *       ({@code CoreWorkerService.PushTasks}, the stream Sluice pushes tasks on), runtime config:
 *       one empty message out, wait for one empty message back, repeat.
 * </ul>
 */
public final class GrpcBaseline {
  private static final String HOST = RpcFactory.LOOPBACK;
  private static final int MAX_MESSAGE_BYTES = 64 << 20;

  private GrpcBaseline() {}

  /** Unary round trip, server and channel from the runtime's {@link RpcFactory}. */
  public static Measurement unaryRuntimeConfig(int warmUpOps, int opsPerRound) throws IOException {
    RpcFactory rpc =
        new RpcFactory(MAX_MESSAGE_BYTES, RpcSecurity.token(RpcSecurity.generateToken()));
    Server server = rpc.startServer(HOST, 0, List.<BindableService>of(new EchoControlService()));
    ManagedChannel channel = rpc.newChannel(HOST + ":" + server.getPort());
    return new UnaryEcho("grpc unary (runtime config)", server, channel, warmUpOps, opsPerRound);
  }

  /** Unary round trip, gRPC's default Netty server and channel (no direct executors). */
  public static Measurement unaryDefaultConfig(int warmUpOps, int opsPerRound) throws IOException {
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress(HOST, 0))
            .addService(new EchoControlService())
            .build()
            .start();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(HOST, server.getPort()).usePlaintext().build();
    return new UnaryEcho("grpc unary (default config)", server, channel, warmUpOps, opsPerRound);
  }

  /** Ping-pong on one bidirectional stream, server and channel from {@link RpcFactory}. */
  public static Measurement bidiStreamRuntimeConfig(int warmUpOps, int opsPerRound)
      throws IOException {
    RpcFactory rpc =
        new RpcFactory(MAX_MESSAGE_BYTES, RpcSecurity.token(RpcSecurity.generateToken()));
    Server server = rpc.startServer(HOST, 0, List.<BindableService>of(new EchoCoreWorker()));
    ManagedChannel channel = rpc.newChannel(HOST + ":" + server.getPort());
    return new StreamPingPong(server, channel, warmUpOps, opsPerRound);
  }

  /** Answers {@code KvGet} with the key as the value. Non-blocking, as the runtime requires. */
  private static final class EchoControlService extends ControlServiceGrpc.ControlServiceImplBase {
    @Override
    public void kvGet(KvGetRequest request, StreamObserver<KvGetReply> reply) {
      reply.onNext(KvGetReply.newBuilder().setFound(true).setValue(request.getKeyBytes()).build());
      reply.onCompleted();
    }
  }

  /** Answers every inbound {@code PushTaskBatch} with one empty {@code TaskResultBatch}. */
  private static final class EchoCoreWorker
      extends CoreWorkerServiceGrpc.CoreWorkerServiceImplBase {
    @Override
    public StreamObserver<PushTaskBatch> pushTasks(StreamObserver<TaskResultBatch> results) {
      return new StreamObserver<>() {
        @Override
        public void onNext(PushTaskBatch batch) {
          results.onNext(TaskResultBatch.getDefaultInstance());
        }

        @Override
        public void onError(Throwable t) {
          // the client went away: nothing to clean up
        }

        @Override
        public void onCompleted() {
          results.onCompleted();
        }
      };
    }
  }

  private static final class UnaryEcho extends RoundTripMeasurement {
    private final Server server;
    private final ManagedChannel channel;
    private final ControlServiceGrpc.ControlServiceBlockingStub stub;
    private final KvGetRequest request = KvGetRequest.newBuilder().setKey("x").build();
    private final ByteString expected = ByteString.copyFromUtf8("x");

    UnaryEcho(String name, Server server, ManagedChannel channel, int warmUpOps, int opsPerRound) {
      super(name, warmUpOps, opsPerRound);
      this.server = server;
      this.channel = channel;
      this.stub = ControlServiceGrpc.newBlockingStub(channel);
    }

    @Override
    void roundTrip(int i) {
      KvGetReply reply = stub.kvGet(request);
      if (!reply.getValue().equals(expected)) {
        throw new IllegalStateException("echo returned " + reply.getValue());
      }
    }

    @Override
    public void close() {
      RpcFactory.shutdownQuietly(channel);
      RpcFactory.shutdownQuietly(server);
    }
  }

  private static final class StreamPingPong extends RoundTripMeasurement {
    private static final long REPLY_TIMEOUT_SECONDS = 30;

    private final Server server;
    private final ManagedChannel channel;
    private final BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
    private final StreamObserver<PushTaskBatch> requests;

    StreamPingPong(Server server, ManagedChannel channel, int warmUpOps, int opsPerRound) {
      super("grpc bidi stream (runtime config)", warmUpOps, opsPerRound);
      this.server = server;
      this.channel = channel;
      this.requests =
          CoreWorkerServiceGrpc.newStub(channel)
              .pushTasks(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(TaskResultBatch batch) {
                      replies.add(batch);
                    }

                    @Override
                    public void onError(Throwable t) {
                      replies.add(t);
                    }

                    @Override
                    public void onCompleted() {}
                  });
    }

    @Override
    void roundTrip(int i) throws InterruptedException {
      requests.onNext(PushTaskBatch.getDefaultInstance());
      Object reply = replies.poll(REPLY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      if (reply instanceof Throwable t) {
        throw new IllegalStateException("stream failed: " + t, t);
      }
      if (reply == null) {
        throw new IllegalStateException(
            "no reply on the stream in " + REPLY_TIMEOUT_SECONDS + " s");
      }
    }

    @Override
    public void close() {
      requests.onCompleted();
      RpcFactory.shutdownQuietly(channel);
      RpcFactory.shutdownQuietly(server);
    }
  }
}
