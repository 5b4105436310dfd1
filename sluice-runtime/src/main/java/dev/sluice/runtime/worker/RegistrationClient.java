package dev.sluice.runtime.worker;

import com.google.protobuf.ByteString;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.RegisterWorkerRequest;
import io.grpc.ManagedChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A starting worker's connection to the node manager that launched it, used once: to register the
 * worker ({@code RegisterWorker}) with the port of its core worker's server. It has a channel of
 * its own, closed once registered; the core worker keeps its own channels.
 *
 * <p>Threads: {@link #connect} makes the channel (initializing the transport's classes) and
 * connects it on a platform thread of its own, {@code sluice-node-manager-connect}, so that the
 * worker's main thread starts its core worker meanwhile; {@link #register} blocks its caller.
 */
final class RegistrationClient implements AutoCloseable {
  private final ManagedChannel channel;

  private RegistrationClient(ManagedChannel channel) {
    this.channel = channel;
  }

  /**
   * Starts connecting to the node manager at {@code target}; completes once the channel is made.
   */
  static CompletableFuture<RegistrationClient> connect(RpcFactory rpc, String target) {
    CompletableFuture<RegistrationClient> client = new CompletableFuture<>();
    Thread.ofPlatform()
        .daemon()
        .name("sluice-node-manager-connect")
        .start(
            () -> {
              try {
                ManagedChannel c = rpc.newChannel(target);
                c.getState(true);
                client.complete(new RegistrationClient(c));
              } catch (Throwable t) {
                client.completeExceptionally(t);
              }
            });
    return client;
  }

  /**
   * Registers worker {@code worker}, serving on {@code port} and the Unix domain socket {@code
   * localSocket} (empty: none) in process {@code pid}; waits up to 30 s for the node manager's
   * answer.
   *
   * @throws RuntimeException if the node manager refused it or did not answer
   */
  void register(WorkerId worker, int port, String localSocket, long pid) {
    NodeManagerServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .registerWorker(
            RegisterWorkerRequest.newBuilder()
                .setWorkerId(ByteString.copyFrom(worker.toBytes()))
                .setPort(port)
                .setLocalSocket(localSocket)
                .setPid(pid)
                .build());
  }

  @Override
  public void close() {
    RpcFactory.shutdownQuietly(channel);
  }
}
