package dev.sluice.runtime.objectmanager;

import dev.sluice.ObjectId;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bulk data channel of an object manager: serves whole objects of this node's store over a
 * plain TCP connection, straight from the store's file with {@code sendfile} ({@link
 * FileChannel#transferTo}), so a pull costs what raw TCP costs: no gRPC framing, no copies through
 * Java buffers. The puller reads into its own store's mapping. Used when the cluster runs without
 * TLS (with TLS, pulls stay on gRPC, which encrypts).
 *
 * <p>Protocol, one object per connection: the puller sends the cluster token and the object id
 * (each as a 4-byte length and the bytes); the server answers the object's size as 8 bytes ({@code
 * -1}: not here, then closes) and then exactly that many bytes. A wrong token closes the connection
 * without an answer.
 *
 * <p>Threads: one virtual thread accepts, and one virtual thread per connection pins the object,
 * sends it and releases it. The store's own lock guards pin and release.
 */
final class ObjectDataServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ObjectDataServer.class);
  static final int MAX_FIELD_BYTES = 4096;

  private final SharedMemoryStore store;
  private final byte[] token;
  private final ServerSocketChannel server;
  private final FileChannel storeFile;
  private final Thread acceptor;
  private final ServeListener listener;
  private final java.util.Set<SocketChannel> open =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Told when an object starts and stops being sent (for the manager's stats). */
  interface ServeListener {
    void started(long bytes);

    void ended(long bytes);
  }

  ObjectDataServer(SharedMemoryStore store, String bindHost, String token, ServeListener listener)
      throws IOException {
    this.listener = listener;
    this.store = store;
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.storeFile = FileChannel.open(store.file(), StandardOpenOption.READ);
    this.server = ServerSocketChannel.open().bind(new InetSocketAddress(bindHost, 0));
    this.acceptor = Thread.ofVirtual().name("sluice-object-data-accept").start(this::accept);
  }

  /** The port the data channel listens on. */
  int port() {
    try {
      return ((InetSocketAddress) server.getLocalAddress()).getPort();
    } catch (IOException e) {
      return -1;
    }
  }

  private void accept() {
    while (server.isOpen()) {
      try {
        SocketChannel c = server.accept();
        Thread.ofVirtual().name("sluice-object-data").start(() -> serve(c));
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        log.debug("object data channel accept failed: {}", e.toString());
      }
    }
  }

  private void serve(SocketChannel c) {
    open.add(c);
    try (c) {
      byte[] presented = readField(c);
      if (!MessageDigest.isEqual(presented, token)) {
        log.warn(
            "object data connection from {} refused: missing or wrong cluster token",
            c.getRemoteAddress());
        return;
      }
      ObjectId id = ObjectId.fromBytes(readField(c));
      SharedMemoryStore.Pinned pinned;
      try {
        pinned = store.pin(id);
      } catch (RuntimeException e) {
        pinned = null;
      }
      if (pinned == null) {
        writeFully(c, ByteBuffer.allocate(8).putLong(0, -1));
        return;
      }
      listener.started(pinned.size());
      try {
        writeFully(c, ByteBuffer.allocate(8).putLong(0, pinned.size()));
        long sent = 0;
        while (sent < pinned.size()) {
          sent += storeFile.transferTo(pinned.offset() + sent, pinned.size() - sent, c);
        }
      } finally {
        listener.ended(pinned.size());
        store.release(id);
      }
    } catch (IOException | RuntimeException e) {
      log.debug("object data connection ended: {}", e.toString());
    } finally {
      open.remove(c);
    }
  }

  static byte[] readField(SocketChannel c) throws IOException {
    ByteBuffer len = ByteBuffer.allocate(4);
    readFully(c, len);
    int n = len.getInt(0);
    if (n < 0 || n > MAX_FIELD_BYTES) {
      throw new IOException("bad field length " + n);
    }
    ByteBuffer b = ByteBuffer.allocate(n);
    readFully(c, b);
    return b.array();
  }

  static void writeField(SocketChannel c, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).flip();
    writeFully(c, b);
  }

  static void readFully(SocketChannel c, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (c.read(b) < 0) {
        throw new IOException(
            "connection closed after " + b.position() + " of " + b.limit() + " bytes");
      }
    }
  }

  static void writeFully(SocketChannel c, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      c.write(b);
    }
  }

  /** Stops accepting and cuts the transfers in progress (their pullers see the error). */
  @Override
  public void close() {
    try {
      server.close();
      for (SocketChannel c : open) {
        c.close();
      }
      storeFile.close();
    } catch (IOException e) {
      log.debug("closing the object data channel: {}", e.toString());
    }
    acceptor.interrupt();
  }
}
