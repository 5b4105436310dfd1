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
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;

/**
 * RSocket-java 1.1.5 request-stream over TCP loopback, every setting left at its default: the
 * fastest Java option for item-credit streaming, and the peer of Sluice's streams. The request's
 * data is the item count {@code n} in decimal; the server answers with {@code n} payloads, item
 * {@code i} holding {@code i} as a 4-byte int, and the client reads every item's int.
 *
 * <ul>
 *   <li>{@link #defaultDemand}: {@code requestStream(...).blockLast()}: Reactor's default demand
 *       (unbounded), so the server sends as fast as the connection takes it. Items per second.
 *   <li>{@link #requestOnePerItem}: a subscriber that requests 1 item on subscribe and 1 more after
 *       each item, so every item costs a {@code REQUEST_N} round trip. Microseconds per item.
 * </ul>
 */
public final class RSocketStreamBaseline {
  private static final long STREAM_TIMEOUT_SECONDS = 120;

  private RSocketStreamBaseline() {}

  /** Items per second of one stream consumed with Reactor's default (unbounded) demand. */
  public static Measurement defaultDemand(int itemsPerRound, int warmUpRounds) {
    return defaultDemand(Connection.open(), itemsPerRound, warmUpRounds);
  }

  /** The same, as a client of a server in another JVM ({@link RSocketPeerServer}). */
  public static Measurement defaultDemand(
      InetSocketAddress server, int itemsPerRound, int warmUpRounds) {
    return defaultDemand(Connection.connect(server), itemsPerRound, warmUpRounds);
  }

  private static Measurement defaultDemand(Connection c, int itemsPerRound, int warmUpRounds) {
    String name = "rsocket request-stream, default demand" + c.suffix();
    return new ItemStreamMeasurement(
        name, itemsPerRound, warmUpRounds, Measurement.Unit.ITEMS_PER_SECOND) {
      @Override
      void stream(int n) {
        long[] count = {0};
        c.client
            .requestStream(request(n))
            .doOnNext(
                p -> {
                  checkItem(name, count[0], item(p));
                  count[0]++;
                  p.release();
                })
            .blockLast();
        checkCount(name, count[0], n);
      }

      @Override
      public void close() {
        c.close();
      }
    };
  }

  /** Microseconds per item of one stream consumed with {@code request(1)} per item. */
  public static Measurement requestOnePerItem(int itemsPerRound, int warmUpRounds) {
    return requestOnePerItem(Connection.open(), itemsPerRound, warmUpRounds);
  }

  /** The same, as a client of a server in another JVM ({@link RSocketPeerServer}). */
  public static Measurement requestOnePerItem(
      InetSocketAddress server, int itemsPerRound, int warmUpRounds) {
    return requestOnePerItem(Connection.connect(server), itemsPerRound, warmUpRounds);
  }

  private static Measurement requestOnePerItem(Connection c, int itemsPerRound, int warmUpRounds) {
    String name = "rsocket request-stream, request(1)" + c.suffix();
    return new ItemStreamMeasurement(
        name, itemsPerRound, warmUpRounds, Measurement.Unit.MICROS_PER_ITEM) {
      @Override
      void stream(int n) throws InterruptedException {
        OneByOne subscriber = new OneByOne(name);
        c.client.requestStream(request(n)).subscribe(subscriber);
        if (!subscriber.done.await(STREAM_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          subscriber.dispose();
          throw new IllegalStateException(
              name
                  + ": no end of stream in "
                  + STREAM_TIMEOUT_SECONDS
                  + " s, "
                  + subscriber.count
                  + " items so far");
        }
        if (subscriber.error != null) {
          throw new IllegalStateException(name + " failed: " + subscriber.error, subscriber.error);
        }
        checkCount(name, subscriber.count, n);
      }

      @Override
      public void close() {
        c.close();
      }
    };
  }

  /** Requests one item on subscribe and one more after each item. */
  private static final class OneByOne extends BaseSubscriber<Payload> {
    private final String name;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile long count;
    private volatile Throwable error;

    OneByOne(String name) {
      this.name = name;
    }

    @Override
    protected void hookOnSubscribe(Subscription subscription) {
      request(1);
    }

    @Override
    protected void hookOnNext(Payload p) {
      ItemStreamMeasurement.checkItem(name, count, item(p));
      count++;
      p.release();
      request(1);
    }

    @Override
    protected void hookOnComplete() {
      done.countDown();
    }

    @Override
    protected void hookOnError(Throwable t) {
      error = t;
      done.countDown();
    }
  }

  /** The answer to a stream request of {@code n}: the items {@code 0 .. n-1}. */
  static Flux<Payload> range(Payload request) {
    int n = Integer.parseInt(request.getDataUtf8());
    request.release();
    return Flux.range(0, n).map(RSocketStreamBaseline::itemPayload);
  }

  private static Payload request(int n) {
    return DefaultPayload.create(Integer.toString(n));
  }

  private static int item(Payload p) {
    ByteBuffer data = p.getData();
    return data.getInt(data.position());
  }

  private static Payload itemPayload(int i) {
    return DefaultPayload.create(ByteBuffer.allocate(4).putInt(0, i));
  }

  /**
   * A client connected to a server that streams {@code range(0, n)}: the server is in this JVM
   * ({@link #open}) or elsewhere ({@link #connect}, {@code server} null).
   */
  private record Connection(CloseableChannel server, RSocket client) {
    static Connection connect(InetSocketAddress address) {
      RSocket client = RSocketConnector.connectWith(TcpClientTransport.create(address)).block();
      if (client == null) {
        throw new IllegalStateException("RSocket client did not connect to " + address);
      }
      return new Connection(null, client);
    }

    String suffix() {
      return server == null ? " (own JVMs)" : "";
    }

    static Connection open() {
      CloseableChannel server =
          RSocketServer.create(SocketAcceptor.forRequestStream(RSocketStreamBaseline::range))
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
      return new Connection(server, client);
    }

    void close() {
      client.dispose();
      if (server != null) {
        server.dispose();
        server.onClose().block();
      }
    }
  }
}
