package dev.sluice.runtime.rpc;

import io.grpc.ManagedChannel;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Caches one channel per target address so that every component of a process shares its
 * connections. Thread-safe; {@link #close()} shuts every channel down.
 */
public final class ChannelPool implements AutoCloseable {
  private final RpcFactory factory;
  private final ConcurrentHashMap<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** A pool whose channels come from {@code factory}. */
  public ChannelPool(RpcFactory factory) {
    this.factory = factory;
  }

  /** The shared channel to {@code target}, created on first use. */
  public ManagedChannel get(String target) {
    if (closed) {
      throw new IllegalStateException("channel pool is closed");
    }
    return channels.computeIfAbsent(target, factory::newChannel);
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
