package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A node manager's picture of the other nodes, refreshed from each heartbeat reply: what spillback
 * decides on. Free resources are as the nodes last reported them; a request sent on to a node is
 * subtracted at once ({@link #reserve}), so a burst does not pile onto one node until the next
 * refresh. Among candidates the node with the most free CPU wins.
 *
 * <p>Not thread-safe: the owning {@link NodeManager} calls it under its lock.
 */
final class ClusterView {
  private final ByteString self;
  private final Map<ByteString, NodeInfo> nodes = new HashMap<>();
  private final Map<ByteString, Map<String, Double>> free = new HashMap<>();

  ClusterView(NodeId self) {
    this.self = ByteString.copyFrom(self.toBytes());
  }

  void update(List<NodeInfo> all) {
    nodes.clear();
    free.clear();
    for (NodeInfo n : all) {
      if (!n.getNodeId().equals(self)) {
        nodes.put(n.getNodeId(), n);
        free.put(n.getNodeId(), new HashMap<>(n.getResourcesAvailableMap()));
      }
    }
  }

  boolean isEmpty() {
    return nodes.values().stream().noneMatch(NodeInfo::getAlive);
  }

  /** The entry of node {@code id}, or null if it is this node or unknown. */
  NodeInfo node(ByteString id) {
    return nodes.get(id);
  }

  /** A live node that reported {@code need} free, or null. */
  NodeInfo withAvailable(Map<String, Double> need) {
    return best(need, true);
  }

  /** A live node whose total resources can ever hold {@code need}, or null. */
  NodeInfo feasible(Map<String, Double> need) {
    NodeInfo withRoom = best(need, true);
    return withRoom != null ? withRoom : best(need, false);
  }

  /** True if node {@code n}'s total resources can hold {@code need} (free or not). */
  static boolean canEverHold(NodeInfo n, Map<String, Double> need) {
    return Resources.fits(need, n.getResourcesTotalMap());
  }

  void reserve(NodeInfo target, Map<String, Double> need) {
    Map<String, Double> f = free.get(target.getNodeId());
    if (f != null) {
      need.forEach((k, v) -> f.merge(k, -v, Double::sum));
    }
  }

  private NodeInfo best(Map<String, Double> need, boolean nowFree) {
    List<NodeInfo> candidates = new ArrayList<>();
    for (NodeInfo n : nodes.values()) {
      if (n.getAlive()
          && (nowFree ? Resources.fits(need, free.get(n.getNodeId())) : canEverHold(n, need))) {
        candidates.add(n);
      }
    }
    NodeInfo best = null;
    double bestCpu = Double.NEGATIVE_INFINITY;
    for (NodeInfo n : candidates) {
      double cpu = free.get(n.getNodeId()).getOrDefault("CPU", 0.0);
      if (cpu > bestCpu) {
        best = n;
        bestCpu = cpu;
      }
    }
    return best;
  }
}
