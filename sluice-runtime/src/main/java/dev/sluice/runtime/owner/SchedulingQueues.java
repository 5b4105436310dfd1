package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.proto.NodeAffinity;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An owner's {@link KeyState}s, one per scheduling key: which key a task is queued under.
 *
 * <p>Threads: a concurrent map; a key, once made, is never removed. Each key's state is guarded by
 * its own monitor.
 */
final class SchedulingQueues {
  private final ConcurrentHashMap<String, KeyState> keys = new ConcurrentHashMap<>();

  /**
   * The key of each task shape seen, so that a task of a known shape finds its key without
   * formatting the key's name (a lookup per submitted task).
   */
  private final ConcurrentHashMap<Shape, KeyState> byShape = new ConcurrentHashMap<>();

  /** What a task's scheduling key is made of. */
  private record Shape(
      ByteString jobId, Map<String, Double> resources, NodeAffinity affinity, boolean generator) {}

  /** The state of the key {@code spec} is scheduled under, made on first use. */
  KeyState keyFor(TaskSpec spec) {
    NodeAffinity affinity = spec.hasNodeAffinity() ? spec.getNodeAffinity() : null;
    Shape shape =
        new Shape(spec.getJobId(), spec.getResourcesMap(), affinity, spec.getStreamingGenerator());
    KeyState known = byShape.get(shape);
    if (known != null) {
      return known;
    }
    KeyState ks = keyNamed(spec, affinity);
    byShape.putIfAbsent(
        new Shape(spec.getJobId(), Map.copyOf(spec.getResourcesMap()), affinity, shape.generator),
        ks);
    return ks;
  }

  private KeyState keyNamed(TaskSpec spec, NodeAffinity affinity) {
    String key = schedulingKey(spec.getResourcesMap(), affinity, spec.getStreamingGenerator());
    // Tasks of different jobs never share a lease (a worker nesting tasks of the job it runs
    // has one job, but a worker on the node's own class path may serve several in turn).
    return keys.computeIfAbsent(
        HexFormat.of().formatHex(spec.getJobId().toByteArray()) + "/" + key,
        k ->
            new KeyState(
                key,
                spec.getJobId(),
                Map.copyOf(spec.getResourcesMap()),
                affinity,
                spec.getStreamingGenerator()));
  }

  /** Every key made so far. */
  Collection<KeyState> all() {
    return keys.values();
  }

  /**
   * The key tasks share leases by: resources and node affinity; streaming generators have keys of
   * their own, as they never share a worker's pipeline.
   */
  static String schedulingKey(
      Map<String, Double> resources, NodeAffinity affinity, boolean generator) {
    String shape = new TreeMap<>(resources) + (generator ? " generator" : "");
    return affinity == null
        ? shape
        : shape
            + "@"
            + NodeId.fromBytes(affinity.getNodeId().toByteArray())
            + (affinity.getSoft() ? "?" : "!");
  }
}
