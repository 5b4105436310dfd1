package dev.sluice.bench;

import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.SocketAcceptor;
import io.rsocket.core.RSocketConnector;
import io.rsocket.core.RSocketServer;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.transport.netty.server.CloseableChannel;
import io.rsocket.transport.netty.server.TcpServerTransport;
import io.rsocket.util.DefaultPayload;
import java.net.InetSocketAddress;
import reactor.core.publisher.Mono;

/**
 * RSocket-java request-response round trips over TCP loopback, every setting left at its default:
 * the reference latency for a lean, well-tuned JVM RPC stack on this machine. The Sluice and gRPC
 * latencies are reported as ratios to it, which makes them comparable across machines.
 *
 * <p>The server echoes the payload; the client sends a one-byte payload and blocks for the reply.
 * {@link #start} runs both in this JVM; {@link #connect} runs the client only, against a server in
 * a JVM of its own ({@link RSocketPeerServer}), which is how the bench's peer rows run it.
 */
public final class RSocketBaseline extends RoundTripMeasurement {
  private final CloseableChannel server; // null when the server runs elsewhere
  private final RSocket client;

  private RSocketBaseline(CloseableChannel server, RSocket client, int warmUpOps, int opsPerRound) {
    super(
        server == null ? "rsocket request-response (own JVMs)" : "rsocket request-response",
        warmUpOps,
        opsPerRound);
    this.server = server;
    this.client = client;
  }

  /** Starts an echo server on an ephemeral loopback port and connects a client to it. */
  public static RSocketBaseline start(int warmUpOps, int opsPerRound) {
    CloseableChannel server =
        RSocketServer.create(SocketAcceptor.forRequestResponse(Mono::just))
            .bind(TcpServerTransport.create("127.0.0.1", 0))
            .block();
    if (server == null) {
      throw new IllegalStateException("RSocket server did not bind");
    }
    RSocket client =
        RSocketConnector.connectWith(TcpClientTransport.create(server.address())).block();
    if (client == null) {
      server.dispose();
      throw new IllegalStateException("RSocket client did not connect");
    }
    return new RSocketBaseline(server, client, warmUpOps, opsPerRound);
  }

  /** Connects a client to an echo server at {@code address}, e.g. a {@link RSocketPeerServer}. */
  public static RSocketBaseline connect(InetSocketAddress address, int warmUpOps, int opsPerRound) {
    RSocket client = RSocketConnector.connectWith(TcpClientTransport.create(address)).block();
    if (client == null) {
      throw new IllegalStateException("RSocket client did not connect to " + address);
    }
    return new RSocketBaseline(null, client, warmUpOps, opsPerRound);
  }

  @Override
  void roundTrip(int i) {
    Payload reply = client.requestResponse(DefaultPayload.create("x")).block();
    if (reply == null || !"x".equals(reply.getDataUtf8())) {
      throw new IllegalStateException(
          "echo returned " + (reply == null ? null : reply.getDataUtf8()));
    }
    reply.release();
  }

  @Override
  public void close() {
    client.dispose();
    if (server != null) {
      server.dispose();
      server.onClose().block();
    }
  }
}
