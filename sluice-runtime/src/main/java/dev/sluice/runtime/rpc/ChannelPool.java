package dev.sluice.runtime.rpc;

import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.proto.Address;
import io.grpc.ManagedChannel;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Caches one channel per target address so that every component of a process shares its
 * connections. A peer known by its {@link Address} ({@link #get(Address)}) is reached over its Unix
 * domain socket when it is on this process's node ({@link LocalSockets#route}); its channel is
 * still filed under its TCP target, so {@link #evict} and every lookup by target find it.
 * Thread-safe; {@link #close()} shuts every channel down.
 */
public final class ChannelPool implements AutoCloseable {
  private final RpcFactory factory;
  private final NodeId localNode;
  private final ConcurrentHashMap<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** A pool whose channels come from {@code factory}, all over TCP (or in-process). */
  public ChannelPool(RpcFactory factory) {
    this(factory, null);
  }

  /**
   * A pool whose channels come from {@code factory}, in a process of node {@code localNode}: peers
   * of that node are dialled over their Unix domain sockets.
   */
  public ChannelPool(RpcFactory factory, NodeId localNode) {
    this.factory = factory;
    this.localNode = localNode;
  }

  /**
   * The shared channel to {@code peer}, created on first use: over its Unix domain socket if it is
   * on this node and has one, else over TCP. Filed under {@link Addresses#target}.
   */
  public ManagedChannel get(Address peer) {
    if (closed) {
      throw new IllegalStateException("channel pool is closed");
    }
    return channels.computeIfAbsent(
        Addresses.target(peer), t -> factory.newChannel(LocalSockets.route(peer, localNode)));
  }

  /** The shared channel to {@code target}, created on first use. */
  public ManagedChannel get(String target) {
    if (closed) {
      throw new IllegalStateException("channel pool is closed");
    }
    return channels.computeIfAbsent(target, factory::newChannel);
  }

  /** The node this pool's process is on, or null if it dials every peer over TCP. */
  public NodeId localNode() {
    return localNode;
  }

  /** The factory of this pool's channels (security and message limits). */
  public RpcFactory factory() {
    return factory;
  }

  /** Drops the channel to {@code target}, e.g. after its peer died. */
  public void evict(String target) {
    ManagedChannel c = channels.remove(target);
    if (c != null) {
      c.shutdownNow();
    }
  }

  @Override
  public void close() {
    closed = true;
    channels.values().forEach(RpcFactory::shutdownQuietly);
    channels.clear();
  }
}
