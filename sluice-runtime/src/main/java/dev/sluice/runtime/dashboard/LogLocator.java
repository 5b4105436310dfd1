package dev.sluice.runtime.dashboard;

import dev.sluice.ClusterState;
import dev.sluice.NodeState;
import dev.sluice.StateQuery;
import dev.sluice.WorkerState;
import dev.sluice.runtime.logging.LogFileNames;
import dev.sluice.runtime.logging.LogFiles;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Finds which node holds a log the dashboard is asked for, and the file's name there: a worker's
 * log (or standard output) by the worker's id, found on the node the state API says it runs on (or
 * on the node asked for, for a worker the state API no longer lists), a node daemon's, or a file by
 * its plain name. Ids may be prefixes, as in {@code sluice logs}. Reads the cluster through the
 * state API and lists files through the {@link NodeLogClient}.
 *
 * <p>Thread-safe (stateless apart from what it is given).
 */
final class LogLocator {
  /** The names the dashboard asks a node for: one plain file name of its logs directory. */
  static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,254}");

  private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]{1,64}");

  /** A node to ask, by its id (hex) and node manager address. */
  record Node(String id, String target, boolean head) {}

  /** A file on a node, and the worker it belongs to (its full id, or null). */
  record Located(Node node, String name, String worker) {}

  private final ClusterState state;
  private final NodeLogClient client;

  LogLocator(ClusterState state, NodeLogClient client) {
    this.state = state;
    this.client = client;
  }

  /** The live nodes (all, or those whose id starts with {@code prefix}). */
  List<Node> liveNodes(String prefix) throws LogRequestException {
    String p = prefix == null ? null : hex("node", prefix);
    List<NodeState> all;
    try {
      all = state.nodes(StateQuery.all().limit(SnapshotSampler.ROW_LIMIT));
    } catch (RuntimeException e) {
      throw new LogRequestException(502, "the cluster did not list its nodes: " + e.getMessage());
    }
    List<Node> live = new ArrayList<>();
    Set<String> targets = new HashSet<>();
    for (NodeState n : all) {
      if (SnapshotJson.alive(n)) {
        targets.add(n.address());
        if (p == null || n.nodeId().hex().startsWith(p)) {
          live.add(new Node(n.nodeId().hex(), n.address(), n.head()));
        }
      }
    }
    client.retain(targets);
    if (p != null && live.isEmpty()) {
      throw new LogRequestException(404, "no live node's id starts with " + p);
    }
    return live;
  }

  /** The one live node whose id starts with {@code prefix}, or the head when it is null. */
  Node node(String prefix) throws LogRequestException {
    List<Node> nodes = liveNodes(prefix);
    if (prefix == null) {
      return nodes.stream()
          .filter(Node::head)
          .findFirst()
          .orElseThrow(() -> new LogRequestException(404, "the cluster has no live head node"));
    }
    if (nodes.size() > 1) {
      throw new LogRequestException(
          400,
          "several nodes' ids start with " + prefix + ": " + nodes.stream().map(Node::id).toList());
    }
    return nodes.getFirst();
  }

  /**
   * The log ({@code out}: the standard output and error) of the worker whose id starts with {@code
   * workerPrefix}, on node {@code nodePrefix} if given.
   */
  Located worker(String workerPrefix, String nodePrefix, boolean out) throws LogRequestException {
    String w = hex("worker", workerPrefix);
    List<WorkerState> matches;
    try {
      matches =
          state.workers(StateQuery.all().limit(SnapshotSampler.ROW_LIMIT)).stream()
              .filter(x -> x.workerId().hex().startsWith(w))
              .toList();
    } catch (RuntimeException e) {
      throw new LogRequestException(502, "the cluster did not list its workers: " + e.getMessage());
    }
    if (matches.size() > 1) {
      throw new LogRequestException(
          400,
          "several workers' ids start with "
              + w
              + ": "
              + matches.stream().map(x -> x.workerId().hex()).toList());
    }
    WorkerState known = matches.isEmpty() ? null : matches.getFirst();
    if (known == null && nodePrefix == null) {
      throw new LogRequestException(
          404, "no worker " + w + " in the cluster (the Workers page lists them)");
    }
    Node node;
    try {
      node = node(nodePrefix != null ? nodePrefix : known.nodeId().hex());
    } catch (LogRequestException e) {
      if (nodePrefix != null || e.status() != 404) {
        throw e;
      }
      throw new LogRequestException(
          404,
          "worker " + w + " ran on node " + known.nodeId().hex() + ", which is no longer alive");
    }
    if (known != null && !known.nodeId().hex().equals(node.id())) {
      throw new LogRequestException(
          404, "worker " + w + " runs on node " + known.nodeId().hex() + ", not on " + node.id());
    }
    String id = known == null ? w : known.workerId().hex();
    String prefix = LogFileNames.workerPrefix(id);
    String preferred = known == null || out ? null : LogFileNames.workerLog(id, known.pid());
    String name =
        client.list(node.id(), node.target()).stream()
            .filter(f -> f.name().startsWith(prefix) && f.name().endsWith(out ? ".out" : ".log"))
            .max(
                Comparator.comparing((LogFiles.Entry f) -> f.name().equals(preferred))
                    .thenComparingLong(LogFiles.Entry::modifiedMillis))
            .map(LogFiles.Entry::name)
            .orElseThrow(
                () ->
                    new LogRequestException(
                        404,
                        "no "
                            + (out ? "output file" : "log")
                            + " of worker "
                            + w
                            + " on node "
                            + node.id()
                            + " (yet)"));
    return new Located(node, name, known == null ? null : id);
  }

  /** The node daemon's log ({@code out}: its standard output and error). */
  Located daemon(String nodePrefix, boolean out) throws LogRequestException {
    return new Located(
        node(nodePrefix), out ? LogFileNames.DAEMON_OUT : LogFileNames.DAEMON_LOG, null);
  }

  /** File {@code name} of node {@code nodePrefix} (the head if null). */
  Located file(String name, String nodePrefix) throws LogRequestException {
    if (!isFileName(name)) {
      throw new LogRequestException(
          400, "not a log file name: only plain names of the node's logs directory are served");
    }
    return new Located(node(nodePrefix), name, null);
  }

  /** Whether {@code name} is a plain file name the dashboard may ask a node for. */
  static boolean isFileName(String name) {
    return name != null && FILE_NAME.matcher(name).matches() && LogFiles.isPlainName(name);
  }

  private static String hex(String what, String id) throws LogRequestException {
    if (!HEX.matcher(id).matches()) {
      throw new LogRequestException(400, "not a " + what + " id: hex digits expected");
    }
    return id.toLowerCase(Locale.ROOT);
  }
}
