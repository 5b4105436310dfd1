package dev.sluice.cli;

import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.NodeLoad;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code sluice status} listing: a summary line, then one line per node (the head first, then
 * live nodes): short node id, head marker, ALIVE or DEAD, node manager address, each resource as
 * used/total, workers, object store use and spilled bytes, and for a dead node why it died.
 */
final class NodeTable {
  private static final int SHORT_ID = 12;

  private NodeTable() {}

  static void print(PrintWriter out, String target, List<NodeInfo> nodes) {
    long alive = nodes.stream().filter(NodeInfo::getAlive).count();
    out.println(
        "cluster at "
            + target
            + ": "
            + nodes.size()
            + " node"
            + (nodes.size() == 1 ? "" : "s")
            + ", "
            + alive
            + " alive");
    nodes.stream()
        .sorted(
            Comparator.comparing((NodeInfo n) -> !n.getIsHead())
                .thenComparing(n -> !n.getAlive())
                .thenComparing(n -> NodeId.fromBytes(n.getNodeId().toByteArray()).hex()))
        .forEach(n -> out.println(line(n)));
  }

  /** One node's line. */
  static String line(NodeInfo n) {
    NodeLoad load = n.getLoad();
    String line =
        String.format(
            "%-12s %-4s %-5s %-21s %s  workers %d  store %s/%s (%d objects)" + "  spilled %s",
            shortId(NodeId.fromBytes(n.getNodeId().toByteArray()).hex()),
            n.getIsHead() ? "head" : "",
            n.getAlive() ? "ALIVE" : "DEAD",
            Addresses.target(n.getNodeManager()),
            resources(n),
            load.getWorkers(),
            bytes(load.getStoreUsedBytes()),
            bytes(n.getObjectStoreCapacity()),
            load.getStoreObjects(),
            bytes(load.getSpilledBytes()));
    return n.getAlive() ? line : line + "  died: " + n.getDeathReason();
  }

  /** The first characters of a node id, as logs show it. */
  static String shortId(String hex) {
    return hex == null || hex.length() <= SHORT_ID
        ? String.valueOf(hex)
        : hex.substring(0, SHORT_ID);
  }

  /** Each resource as {@code NAME used/total}, CPU first; used is total minus available. */
  static String resources(NodeInfo n) {
    Map<String, Double> total = n.getResourcesTotalMap();
    Map<String, Double> available = n.getResourcesAvailableMap();
    List<String> names = new ArrayList<>(total.keySet());
    names.sort(
        Comparator.comparing((String k) -> !k.equals("CPU"))
            .thenComparing(Comparator.naturalOrder()));
    List<String> parts = new ArrayList<>();
    for (String k : names) {
      double t = total.get(k);
      double used = Math.max(0, t - available.getOrDefault(k, t));
      parts.add(k + " " + number(used) + "/" + number(t));
    }
    return parts.isEmpty() ? "no resources" : String.join(" ", parts);
  }

  static String number(double v) {
    return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }

  /** Bytes in binary units with one decimal ({@code 1.5 GiB}). */
  static String bytes(long b) {
    if (b < 1024) {
      return b + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = b;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
