package dev.sluice.bench;

import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.SocketAcceptor;
import io.rsocket.core.RSocketServer;
import io.rsocket.transport.netty.server.CloseableChannel;
import io.rsocket.transport.netty.server.TcpServerTransport;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The RSocket server of the peer rows, run in a JVM of its own by {@link PeerMain}: on one TCP
 * loopback port it answers request-response with the request itself (the peer of {@link
 * RSocketBaseline}) and request-stream of {@code n} with the items {@code 0 .. n-1} (the peer of
 * {@link RSocketStreamBaseline}), every setting left at RSocket's defaults.
 *
 * <p>Threads: RSocket's (reactor-netty's) own event loops.
 */
final class RSocketPeerServer {
  private RSocketPeerServer() {}

  /** Binds an ephemeral port on 127.0.0.1; the caller disposes the channel. */
  static CloseableChannel start() {
    RSocket handler =
        new RSocket() {
          @Override
          public Mono<Payload> requestResponse(Payload payload) {
            return Mono.just(payload);
          }

          @Override
          public Flux<Payload> requestStream(Payload payload) {
            return RSocketStreamBaseline.range(payload);
          }
        };
    CloseableChannel server =
        RSocketServer.create(SocketAcceptor.with(handler))
            .bind(TcpServerTransport.create("127.0.0.1", 0))
            .block();
    if (server == null) {
      throw new IllegalStateException("RSocket server did not bind");
    }
    return server;
  }
}
