package dev.sluice.runtime.rpc;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener of framed streams ({@link FramedConnection}) on a Unix domain socket of the session
 * directory, for processes of the same node: each accepted connection that presents the cluster
 * token becomes one bidirectional stream, handed to {@code acceptor} as gRPC hands a bidi call to
 * its service method. The socket file is owner-only (inside the owner-only socket directory of
 * {@link LocalSockets}), and the token is still checked on every connection.
 *
 * <p>Threads: one accept thread ({@code sluice-frames-accept}); each connection has its reader
 * thread. {@link #close()} may be called from any thread: it stops accepting, breaks every open
 * connection (their inbound observers get {@code onError}, as on a gRPC server's shutdown) and
 * removes the socket file.
 */
public final class FramedServer<I extends MessageLite, O extends MessageLite>
    implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FramedServer.class);

  private final Path socket;
  private final ServerSocketChannel listener;
  private final String token;
  private final int maxMessageBytes;
  private final Parser<I> parser;
  private final Function<StreamObserver<O>, StreamObserver<I>> acceptor;
  private final Set<FramedConnection<I, O>> connections = ConcurrentHashMap.newKeySet();
  private final AtomicLong names = new AtomicLong();
  private volatile boolean closed;

  private FramedServer(
      Path socket,
      ServerSocketChannel listener,
      String token,
      int maxMessageBytes,
      Parser<I> parser,
      Function<StreamObserver<O>, StreamObserver<I>> acceptor) {
    this.socket = socket;
    this.listener = listener;
    this.token = token;
    this.maxMessageBytes = maxMessageBytes;
    this.parser = parser;
    this.acceptor = acceptor;
  }

  /**
   * Listens on {@code socket} (a path in the socket directory, {@link LocalSockets}), made
   * owner-only, for clients that send {@code token}; messages over {@code maxMessageBytes} break
   * their connection. {@code acceptor} turns each accepted stream's outbound observer into its
   * inbound one (on the connection's reader thread; it must not block).
   */
  public static <I extends MessageLite, O extends MessageLite> FramedServer<I, O> start(
      Path socket,
      String token,
      int maxMessageBytes,
      Parser<I> parser,
      Function<StreamObserver<O>, StreamObserver<I>> acceptor)
      throws IOException {
    Files.deleteIfExists(socket); // left by a process that died with this name's pid
    ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      listener.bind(UnixDomainSocketAddress.of(socket));
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException | RuntimeException e) {
      listener.close();
      Files.deleteIfExists(socket);
      throw e;
    }
    FramedServer<I, O> server =
        new FramedServer<>(socket, listener, token, maxMessageBytes, parser, acceptor);
    Thread.ofPlatform().daemon().name("sluice-frames-accept").start(server::acceptLoop);
    return server;
  }

  /** The socket file this server listens on. */
  public Path socket() {
    return socket;
  }

  private void acceptLoop() {
    while (!closed) {
      SocketChannel channel;
      try {
        channel = listener.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!closed) {
          log.warn("framed listener {} stopped accepting: {}", socket, e.toString());
        }
        return;
      }
      try {
        String name = socket.getFileName() + "-" + names.incrementAndGet();
        FramedConnection<I, O>[] self = newHolder();
        FramedConnection<I, O> c =
            FramedConnection.serve(
                channel,
                token,
                maxMessageBytes,
                parser,
                acceptor,
                name,
                () -> connections.remove(self[0]));
        self[0] = c;
        connections.add(c);
        if (closed) {
          c.abort("server shut down");
        }
      } catch (IOException | RuntimeException e) {
        log.warn("could not serve a connection on {}: {}", socket, e.toString());
        try {
          channel.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static <I extends MessageLite, O extends MessageLite>
      FramedConnection<I, O>[] newHolder() {
    return (FramedConnection<I, O>[]) new FramedConnection<?, ?>[1];
  }

  /** Stops accepting, breaks every open connection and removes the socket file. */
  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException e) {
      // closing anyway
    }
    connections.forEach(c -> c.abort("server shut down"));
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      // the session directory's removal takes it
    }
  }
}
