package dev.sluice.runtime.core;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A core worker's subscription to the control service's node table ({@code WatchNodes}): how an
 * owner learns that a node died, so it fails or retries the tasks leased there without waiting for
 * connections to time out. A broken subscription is opened again every second until closed. The
 * subscription itself is a {@link NodeWatchStream}.
 *
 * <p>Threads: updates arrive on a transport thread and run the death listeners there (they must not
 * block); a broken subscription is opened again on the core worker's timer thread; the table is a
 * concurrent map read from any thread.
 */
final class NodeWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeWatcher.class);

  private final ChannelPool channels;
  private final String controlTarget;
  private final ScheduledExecutorService timers;
  private final Map<ByteString, NodeInfo> nodes = new ConcurrentHashMap<>();
  private final List<Consumer<NodeInfo>> deathListeners = new CopyOnWriteArrayList<>();
  private volatile NodeWatchStream call;
  private volatile boolean closed;

  NodeWatcher(ChannelPool channels, String controlTarget, ScheduledExecutorService timers) {
    this.channels = channels;
    this.controlTarget = controlTarget;
    this.timers = timers;
  }

  /** Runs {@code listener} once for each node that is seen dying from now on. */
  void onNodeDeath(Consumer<NodeInfo> listener) {
    deathListeners.add(listener);
  }

  void start() {
    if (closed) {
      return;
    }
    NodeWatchStream c = NodeWatchStream.open(channels, controlTarget, this::seen, this::retry);
    call = c;
    if (closed) {
      c.cancel(); // closed while it opened
    }
  }

  /** A node's entry as the control service sends it: a death is told to the listeners once. */
  private void seen(NodeInfo info) {
    NodeInfo before = nodes.put(info.getNodeId(), info);
    if (!info.getAlive() && (before == null || before.getAlive())) {
      log.warn(
          "node {} died: {}",
          NodeId.fromBytes(info.getNodeId().toByteArray()),
          info.getDeathReason());
      deathListeners.forEach(l -> l.accept(info));
    }
  }

  private void retry(String why) {
    if (closed) {
      return;
    }
    log.debug("node subscription to {} broke ({}); opening it again in 1 s", controlTarget, why);
    try {
      timers.schedule(this::start, 1, TimeUnit.SECONDS);
    } catch (RejectedExecutionException e) {
      // the core worker is shutting down
    }
  }

  /** The node's entry as last seen, or null. */
  NodeInfo node(ByteString nodeId) {
    return nodes.get(nodeId);
  }

  @Override
  public void close() {
    closed = true;
    NodeWatchStream c = call;
    if (c != null) {
      c.cancel();
    }
  }
}
