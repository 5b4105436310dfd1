package dev.sluice.runtime.rpc;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One bidirectional stream of protobuf messages over one Unix domain socket connection, in the
 * frames of {@link FrameCodec}: the same-node transport of lease task streams ({@link
 * FramedServer}, {@link #connect}). It is presented to the call logic as gRPC presents a bidi
 * stream: the logic gets an outbound {@link StreamObserver} and hands in an inbound one, with the
 * same meaning of {@code onCompleted} (the peer's orderly end) and {@code onError} (the connection
 * broke: a {@code StatusRuntimeException}, {@code UNAVAILABLE}, or {@code UNAUTHENTICATED} when the
 * server refused the cluster token). As with gRPC, the server's end closes the whole call: the
 * client then drops what it is still asked to send, and the server hears nothing more of it.
 *
 * <p>Threads: one reader thread per connection (a platform thread, {@code sluice-frames-*}) waits
 * in a selector, reads, and calls the inbound observer, one message at a time in arrival order, as
 * a gRPC direct executor would; inbound callbacks must not block. Sends are written by the calling
 * thread itself, under {@code writeLock}, without blocking: what the socket does not take at once
 * is queued, and the reader thread writes it when the socket has room. So a send never waits for
 * the peer, and no thread hands a message to another on the way out.
 */
public final class FramedConnection<I extends MessageLite, O extends MessageLite> {
  private static final Logger log = LoggerFactory.getLogger(FramedConnection.class);

  private final SocketChannel channel;
  private final Selector selector;
  private final SelectionKey key;
  private final Parser<I> parser;
  private final FrameCodec.Decoder decoder;
  private final String peer;
  private final Object writeLock = new Object();
  private final Outbound<O> outbound = new Outbound<>(this);

  /** Server side: the token expected in the client's hello, and what makes the inbound observer. */
  private final byte[] expectedToken;

  private final Function<StreamObserver<O>, StreamObserver<I>> acceptor;

  /**
   * The inbound observer: null on a server connection until the client's hello is accepted. Set and
   * called on the reader thread only.
   */
  private StreamObserver<I> inbound;

  @GuardedBy("writeLock")
  private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();

  /** This side sent its end (onCompleted): nothing more may be sent. */
  @GuardedBy("writeLock")
  private boolean outputEnded;

  /** The peer sent its end. Reader thread only. */
  private boolean inputEnded;

  /** Why the connection is to be broken (a failed send, an abort); the reader thread reports it. */
  private volatile RuntimeException failure;

  @GuardedBy("writeLock")
  private boolean closed;

  /** Closed by the server ({@link FramedServer}) when it shuts down; may be null. */
  private final Runnable onClose;

  private FramedConnection(
      SocketChannel channel,
      Parser<I> parser,
      int maxMessageBytes,
      String peer,
      StreamObserver<I> inbound,
      byte[] expectedToken,
      Function<StreamObserver<O>, StreamObserver<I>> acceptor,
      Runnable onClose)
      throws IOException {
    this.channel = channel;
    this.parser = parser;
    this.decoder = new FrameCodec.Decoder(maxMessageBytes);
    this.peer = peer;
    this.inbound = inbound;
    this.expectedToken = expectedToken;
    this.acceptor = acceptor;
    this.onClose = onClose;
    channel.configureBlocking(false);
    this.selector = Selector.open();
    this.key = channel.register(selector, SelectionKey.OP_READ);
  }

  /**
   * Connects to the {@link FramedServer} at {@code socket} as a client: sends the cluster {@code
   * token} first, then whatever is sent on the returned observer; the server's messages go to
   * {@code inbound}. A connection that cannot be made is reported to {@code inbound.onError}, on a
   * thread of its own, as a broken gRPC stream would be.
   */
  public static <I extends MessageLite, O extends MessageLite> StreamObserver<O> connect(
      Path socket, String token, int maxMessageBytes, Parser<I> parser, StreamObserver<I> inbound) {
    String peer = String.valueOf(socket.getFileName());
    FramedConnection<I, O> c;
    try {
      SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
      c = new FramedConnection<>(channel, parser, maxMessageBytes, peer, inbound, null, null, null);
    } catch (IOException | RuntimeException e) {
      StatusRuntimeException error =
          Status.UNAVAILABLE
              .withDescription("cannot connect to " + socket + ": " + e)
              .withCause(e)
              .asRuntimeException();
      Thread.ofPlatform()
          .daemon()
          .name("sluice-frames-failed-" + peer)
          .start(() -> inbound.onError(error));
      return new Outbound<>(null);
    }
    c.send(FrameCodec.text(FrameCodec.HELLO, token));
    c.start("sluice-frames-to-" + peer);
    return c.outbound;
  }

  /**
   * Serves an accepted connection: its first frame must be a hello with {@code token}, after which
   * {@code acceptor} makes the inbound observer from the outbound one (on the reader thread); a
   * wrong token is answered with a refusal and the connection closed. {@code onClose} runs once it
   * is closed.
   */
  static <I extends MessageLite, O extends MessageLite> FramedConnection<I, O> serve(
      SocketChannel channel,
      String token,
      int maxMessageBytes,
      Parser<I> parser,
      Function<StreamObserver<O>, StreamObserver<I>> acceptor,
      String name,
      Runnable onClose)
      throws IOException {
    FramedConnection<I, O> c =
        new FramedConnection<>(
            channel,
            parser,
            maxMessageBytes,
            name,
            null,
            token.getBytes(StandardCharsets.UTF_8),
            acceptor,
            onClose);
    c.start("sluice-frames-" + name);
    return c;
  }

  private void start(String threadName) {
    Thread.ofPlatform().daemon().name(threadName).start(this::readLoop);
  }

  /**
   * Breaks the connection from any thread: the reader thread closes it and tells the inbound
   * observer {@code onError} (UNAVAILABLE with {@code reason}), unless the stream already ended.
   */
  void abort(String reason) {
    breakWith(Status.UNAVAILABLE.withDescription(reason).asRuntimeException());
  }

  private void breakWith(RuntimeException error) {
    if (failure == null) {
      failure = error;
    }
    selector.wakeup();
  }

  /** The sending side as gRPC presents it; {@code connection} null: a stream that never opened. */
  private static final class Outbound<O extends MessageLite> implements StreamObserver<O> {
    private final FramedConnection<?, O> connection;

    Outbound(FramedConnection<?, O> connection) {
      this.connection = connection;
    }

    @Override
    public void onNext(O value) {
      if (connection != null) {
        connection.sendMessage(value);
      }
    }

    @Override
    public void onError(Throwable t) {
      if (connection != null) {
        connection.abort("cancelled by this side: " + t);
      }
    }

    @Override
    public void onCompleted() {
      if (connection != null) {
        connection.end();
      }
    }
  }

  private void sendMessage(O value) {
    ByteBuffer frame = FrameCodec.message(value);
    synchronized (writeLock) {
      if (outputEnded) {
        throw new IllegalStateException("stream to " + peer + " already completed");
      }
      sendLocked(frame);
    }
  }

  private void end() {
    synchronized (writeLock) {
      if (outputEnded) {
        return;
      }
      sendLocked(FrameCodec.empty(FrameCodec.END));
      outputEnded = true;
    }
    selector.wakeup(); // the reader thread closes once both directions ended
  }

  private void send(ByteBuffer frame) {
    synchronized (writeLock) {
      sendLocked(frame);
    }
  }

  /**
   * Writes {@code frame} on the calling thread if nothing waits before it, as far as the socket
   * takes it without blocking, and queues the rest for the reader thread. Dropped once the
   * connection is broken or closed: the inbound side reports why.
   */
  @GuardedBy("writeLock")
  private void sendLocked(ByteBuffer frame) {
    if (closed || failure != null) {
      return;
    }
    if (pending.isEmpty()) {
      try {
        channel.write(frame);
      } catch (IOException e) {
        breakWith(broken(e));
        return;
      }
      if (!frame.hasRemaining()) {
        return;
      }
      pending.add(frame);
      key.interestOpsOr(SelectionKey.OP_WRITE);
      selector.wakeup();
      return;
    }
    pending.add(frame);
  }

  /** Writes what is queued, as far as the socket takes it; reader thread. */
  private void flushPending() throws IOException {
    synchronized (writeLock) {
      while (!pending.isEmpty()) {
        ByteBuffer b = pending.peek();
        channel.write(b);
        if (b.hasRemaining()) {
          return;
        }
        pending.poll();
      }
      key.interestOpsAnd(~SelectionKey.OP_WRITE);
    }
  }

  private void readLoop() {
    try {
      while (true) {
        selector.select();
        if (failure != null) {
          failWith(failure);
          return;
        }
        if (selector.selectedKeys().remove(key)) {
          if (key.isWritable()) {
            flushPending();
          }
          if (key.isReadable()) {
            read();
          }
        }
        if (failure != null) {
          failWith(failure);
          return;
        }
        synchronized (writeLock) {
          if (closed) {
            return;
          }
          if (inputEnded && outputEnded && pending.isEmpty()) {
            closeLocked();
            return;
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      failWith(broken(e));
    }
  }

  private void read() throws IOException {
    while (true) {
      int n = channel.read(decoder.buffer());
      if (n < 0) {
        if (!inputEnded && !(isServer() && outputEnded())) {
          throw new IOException("connection closed by " + peer + " without an end of stream");
        }
        // The peer closed after its end, or after this server ended the call: nothing to tell.
        inputEnded = true;
        key.interestOpsAnd(~SelectionKey.OP_READ);
        return;
      }
      if (n == 0) {
        return;
      }
      decoder.drain(this::frame);
      if (failure != null || !channel.isOpen()) {
        return;
      }
    }
  }

  private void frame(byte kind, byte[] bytes, int offset, int length) throws IOException {
    if (inputEnded) {
      throw new IOException("frame from " + peer + " after its end of stream");
    }
    if (inbound == null) {
      hello(kind, bytes, offset, length);
      return;
    }
    switch (kind) {
      case FrameCodec.MESSAGE -> {
        I message;
        try {
          message = parser.parseFrom(bytes, offset, length);
        } catch (InvalidProtocolBufferException e) {
          throw new IOException("unreadable message from " + peer, e);
        }
        inbound.onNext(message);
      }
      case FrameCodec.END -> {
        inputEnded = true;
        inbound.onCompleted();
        if (!isServer()) {
          // The server ended the call: the client's further sends are dropped, as in gRPC.
          synchronized (writeLock) {
            if (!closed) {
              closeLocked();
            }
          }
        }
      }
      case FrameCodec.REFUSED ->
          breakWith(
              Status.UNAUTHENTICATED
                  .withDescription(new String(bytes, offset, length, StandardCharsets.UTF_8))
                  .asRuntimeException());
      default -> throw new IOException("frame of unknown kind " + kind + " from " + peer);
    }
  }

  /** Server side: the client's first frame must be a hello with the cluster token. */
  private void hello(byte kind, byte[] bytes, int offset, int length) {
    byte[] token = Arrays.copyOfRange(bytes, offset, offset + length);
    if (kind == FrameCodec.HELLO && MessageDigest.isEqual(token, expectedToken)) {
      inbound = acceptor.apply(outbound);
      return;
    }
    log.warn("refused a task stream connection on {}: missing or wrong cluster token", peer);
    send(
        FrameCodec.text(
            FrameCodec.REFUSED,
            "missing or wrong cluster token; this endpoint only serves its cluster"));
    // Nobody to tell: the connection never reached the call logic.
    breakWith(Status.UNAUTHENTICATED.withDescription("refused").asRuntimeException());
  }

  private boolean isServer() {
    return expectedToken != null;
  }

  private boolean outputEnded() {
    synchronized (writeLock) {
      return outputEnded;
    }
  }

  private StatusRuntimeException broken(Throwable e) {
    if (e instanceof StatusRuntimeException s) {
      return s;
    }
    return Status.UNAVAILABLE
        .withDescription("task stream connection with " + peer + " broke: " + e)
        .withCause(e)
        .asRuntimeException();
  }

  /** Closes the connection and tells the inbound observer, unless its stream already ended. */
  private void failWith(RuntimeException error) {
    synchronized (writeLock) {
      if (closed) {
        return;
      }
      closeLocked();
    }
    if (inbound != null && !inputEnded) {
      inputEnded = true;
      inbound.onError(error);
    }
  }

  @GuardedBy("writeLock")
  private void closeLocked() {
    closed = true;
    pending.clear();
    try {
      selector.close();
    } catch (IOException e) {
      // closing anyway
    }
    try {
      channel.close();
    } catch (IOException e) {
      // closing anyway
    }
    if (onClose != null) {
      onClose.run();
    }
  }
}
