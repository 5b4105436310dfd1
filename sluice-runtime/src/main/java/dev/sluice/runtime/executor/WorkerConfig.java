package dev.sluice.runtime.executor;

import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a worker process needs to know at start, passed on its command line by the node manager
 * that launches it.
 *
 * @param workerId this worker's id, chosen by the node manager
 * @param nodeId the node it belongs to
 * @param nodeManagerTarget where the node manager listens ({@code host:port})
 * @param bindHost the host this worker's RPC server binds to
 * @param serializationAllowList user package prefixes allowed in deserialization
 * @param inlineThresholdBytes values up to this size travel inline
 * @param maxMessageBytes the transport's message limit
 * @param objectStoreFile the node's shared-memory store file
 * @param objectStoreCapacity its capacity in bytes
 * @param controlTarget the control service's {@code host:port}
 * @param unschedulableTimeout how long a task no node can serve waits for one
 */
public record WorkerConfig(WorkerId workerId, NodeId nodeId, String nodeManagerTarget,
    String bindHost, List<String> serializationAllowList, int inlineThresholdBytes,
    int maxMessageBytes, Path objectStoreFile, long objectStoreCapacity, String controlTarget,
    Duration unschedulableTimeout) {

  /** The config as command-line arguments for {@link WorkerMain}. */
  public List<String> toArgs() {
    List<String> args = new ArrayList<>();
    args.addAll(List.of("--worker-id", workerId.hex(), "--node-id", nodeId.hex(),
        "--node-manager", nodeManagerTarget, "--bind-host", bindHost,
        "--inline-threshold", Integer.toString(inlineThresholdBytes),
        "--max-message-bytes", Integer.toString(maxMessageBytes),
        "--object-store", objectStoreFile.toString(),
        "--object-store-capacity", Long.toString(objectStoreCapacity),
        "--control", controlTarget,
        "--unschedulable-timeout-ms", Long.toString(unschedulableTimeout.toMillis())));
    if (!serializationAllowList.isEmpty()) {
      args.addAll(List.of("--allow", String.join(",", serializationAllowList)));
    }
    return args;
  }

  /** Parses {@link #toArgs()} output. */
  public static WorkerConfig parse(String[] args) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + args[i]);
      }
      m.put(args[i].substring(2), args[i + 1]);
    }
    String allow = m.getOrDefault("allow", "");
    return new WorkerConfig(
        WorkerId.fromHex(required(m, "worker-id")),
        NodeId.fromHex(required(m, "node-id")),
        required(m, "node-manager"),
        required(m, "bind-host"),
        allow.isEmpty() ? List.of() : Arrays.asList(allow.split(",")),
        Integer.parseInt(required(m, "inline-threshold")),
        Integer.parseInt(required(m, "max-message-bytes")),
        Path.of(required(m, "object-store")),
        Long.parseLong(required(m, "object-store-capacity")),
        required(m, "control"),
        Duration.ofMillis(Long.parseLong(required(m, "unschedulable-timeout-ms"))));
  }

  private static String required(Map<String, String> m, String key) {
    String v = m.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing --" + key);
    }
    return v;
  }
}
