package dev.sluice.runtime.rpc;

import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.proto.Address;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Same-node transport: where a process's Unix domain socket listener lives, and when a peer is
 * dialled over it instead of TCP (DESIGN "Security", same-node transport).
 *
 * <p>A node's sockets live in its socket directory ({@link SocketDirectory}): {@code sockets/} of
 * its session directory, or a short private directory that {@code sockets} links to when paths in
 * the session directory would be too long; either is owner-only ({@code rwx------}), and each
 * socket file is made owner-only too. File permissions are the listener's protection against other
 * local users, and the cluster token is still checked on every call. A peer is dialled over its
 * socket only when its address names this node and the socket file exists here ({@link #route});
 * every other peer, and every peer when the epoll transport is not available or the path would pass
 * the kernel's limit, is reached over TCP.
 *
 * <p>Lease task streams to a worker of this node take its framed socket instead ({@link
 * #framedRoute}, {@link FramedServer}): the same protobuf messages in length-prefixed frames, with
 * no HTTP/2 and no event loop between the socket and the threads that send and receive.
 *
 * <p>Stateless apart from a name counter and a once-only log flag; thread-safe.
 */
public final class LocalSockets {
  /** Prefix of a channel target that names a Unix domain socket: {@code unix:/path}. */
  public static final String UNIX_PREFIX = "unix:";

  /**
   * Switch for comparing transports: {@code -Dsluice.rpc.localSockets=false} makes every process of
   * a node skip its socket listener, so all traffic takes TCP.
   */
  public static final String ENABLED_PROPERTY = "sluice.rpc.localSockets";

  /**
   * Switch for comparing transports: {@code -Dsluice.rpc.framedTaskStreams=false} in a worker makes
   * it skip its framed task-stream listener ({@link FramedServer}), so owners use its gRPC stream.
   */
  public static final String FRAMED_PROPERTY = "sluice.rpc.framedTaskStreams";

  /** What a process's framed task-stream socket adds to the name of its gRPC socket. */
  static final String FRAMED_SUFFIX = ".tasks";

  /** Longest socket path the kernel takes ({@code sun_path} is 108 bytes with its NUL). */
  static final int MAX_PATH_BYTES = 107;

  private static final Logger log = LoggerFactory.getLogger(LocalSockets.class);

  private static final AtomicLong NAMES = new AtomicLong();

  /** Whether a socket path too long for the kernel has been logged (once per process). */
  private static final AtomicBoolean TOO_LONG_LOGGED = new AtomicBoolean();

  private LocalSockets() {}

  /** Whether this process can serve and dial Unix domain sockets (Linux epoll transport). */
  public static boolean available() {
    return Boolean.parseBoolean(System.getProperty(ENABLED_PROPERTY, "true"))
        && Epoll.isAvailable();
  }

  /**
   * A fresh socket path for a listener of {@code kind} ({@code "worker"}, {@code "driver"}, ...) in
   * the socket directory of {@code sessionDir}, creating that directory owner-only if needed; empty
   * if this process cannot serve Unix sockets or the path would be too long (the listener then
   * stays TCP only).
   *
   * @throws IOException if the directory cannot be made, or exists with access for others
   */
  public static Optional<Path> newSocketPath(Path sessionDir, String kind) throws IOException {
    if (!available()) {
      return Optional.empty();
    }
    Path dir = directory(sessionDir);
    Path socket =
        dir.resolve(kind + "-" + ProcessHandle.current().pid() + "-" + NAMES.incrementAndGet());
    if (fits(socket)) {
      return Optional.of(socket.toAbsolutePath());
    }
    if (TOO_LONG_LOGGED.compareAndSet(false, true)) {
      log.warn(
          "the socket path {} would pass the kernel's {} bytes: this process takes TCP only",
          socket,
          MAX_PATH_BYTES);
    }
    return Optional.empty();
  }

  /**
   * What the shared-credit file of a process that owns streams adds to the name of its socket
   * (DESIGN "Shared credit").
   */
  public static final String CREDIT_SUFFIX = ".credit";

  /** What its item rings' file adds to the shared-credit file's name (DESIGN "Shared items"). */
  public static final String ITEMS_SUFFIX = ".items";

  /**
   * Removes the socket {@code socket} of a process that exited without shutting its server down (a
   * killed worker), and its framed task-stream socket, if it is in the socket directory of {@code
   * sessionDir}; anything else is left alone.
   */
  public static void removeLeftover(Path sessionDir, String socket) {
    if (socket == null || socket.isEmpty()) {
      return;
    }
    Path file = Path.of(socket).toAbsolutePath().normalize();
    if (!SocketDirectory.located(sessionDir)
        .toAbsolutePath()
        .normalize()
        .equals(file.getParent())) {
      return;
    }
    try {
      Files.deleteIfExists(file);
      Files.deleteIfExists(file.resolveSibling(file.getFileName() + FRAMED_SUFFIX));
      // A process that owned streams also left its shared-credit and item-ring files there.
      Files.deleteIfExists(file.resolveSibling(file.getFileName() + CREDIT_SUFFIX));
      Files.deleteIfExists(file.resolveSibling(file.getFileName() + CREDIT_SUFFIX + ITEMS_SUFFIX));
    } catch (IOException e) {
      // the session directory's removal takes it
    }
  }

  /**
   * The framed task-stream socket ({@link FramedServer}) of the process whose gRPC socket is {@code
   * localSocket}: the same name with {@link #FRAMED_SUFFIX}; empty if framed task streams are
   * switched off here or that path would be too long.
   */
  public static Optional<Path> framedPath(Path localSocket) {
    Path framed = localSocket.resolveSibling(localSocket.getFileName() + FRAMED_SUFFIX);
    return Boolean.parseBoolean(System.getProperty(FRAMED_PROPERTY, "true")) && fits(framed)
        ? Optional.of(framed)
        : Optional.empty();
  }

  /**
   * The framed task-stream socket to dial {@code peer} with from a process of node {@code
   * localNode}, if the peer is on this node and serves one; empty: use its gRPC stream.
   */
  public static Optional<Path> framedRoute(Address peer, NodeId localNode) {
    if (!sameNodeWithSocket(peer, localNode)) {
      return Optional.empty();
    }
    Path framed = Path.of(peer.getLocalSocket() + FRAMED_SUFFIX);
    return Files.exists(framed, LinkOption.NOFOLLOW_LINKS) ? Optional.of(framed) : Optional.empty();
  }

  /** True if {@code socket}'s absolute path fits in a Unix socket address. */
  private static boolean fits(Path socket) {
    return socket.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8).length
        <= MAX_PATH_BYTES;
  }

  /** True if {@code peer} advertises a socket and runs on node {@code localNode}. */
  private static boolean sameNodeWithSocket(Address peer, NodeId localNode) {
    return localNode != null
        && !peer.getLocalSocket().isEmpty()
        && peer.getNodeId().equals(Addresses.bytes(localNode.toBytes()));
  }

  /**
   * The owner-only socket directory of the node whose session directory is {@code sessionDir}
   * ({@link SocketDirectory#find}), created in it if missing.
   */
  static Path directory(Path sessionDir) throws IOException {
    return SocketDirectory.find(sessionDir);
  }

  /**
   * The channel target to dial {@code peer} with from a process of node {@code localNode}: {@code
   * unix:/path} if the peer is on this node and its socket exists here, else its TCP target.
   */
  public static String route(Address peer, NodeId localNode) {
    String tcp = Addresses.target(peer);
    if (!sameNodeWithSocket(peer, localNode) || !available()) {
      return tcp;
    }
    Path socket = Path.of(peer.getLocalSocket());
    return Files.exists(socket, LinkOption.NOFOLLOW_LINKS) ? UNIX_PREFIX + socket : tcp;
  }
}
