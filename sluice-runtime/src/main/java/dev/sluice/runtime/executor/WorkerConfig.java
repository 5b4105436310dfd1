package dev.sluice.runtime.executor;

import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.RpcSecurity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a worker process needs to know at start, passed by the node manager that launches it:
 * everything on the command line except the cluster token, which goes in the child's environment
 * ({@link RpcSecurity#TOKEN_ENV_VAR}) because any local user can read command lines with {@code
 * ps}. TLS file paths are not secret and travel as arguments.
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
 * @param security the cluster token and TLS files of the worker's RPC
 * @param sessionDir the node's session directory, where the worker's Unix domain socket listener
 *     goes ({@code sockets}, or the short directory it links to); null: TCP only
 * @param observability record metrics and push them to the node manager (the node's setting)
 */
public record WorkerConfig(
    WorkerId workerId,
    NodeId nodeId,
    String nodeManagerTarget,
    String bindHost,
    List<String> serializationAllowList,
    int inlineThresholdBytes,
    int maxMessageBytes,
    Path objectStoreFile,
    long objectStoreCapacity,
    String controlTarget,
    Duration unschedulableTimeout,
    RpcSecurity security,
    Path sessionDir,
    boolean observability) {

  /**
   * The worker JVM's main class ({@code dev.sluice.runtime.worker.WorkerMain}), named here so that
   * the node manager launching it need not depend on the worker process's own package.
   */
  public static final String MAIN_CLASS = "dev.sluice.runtime.worker.WorkerMain";

  /** The config as command-line arguments for {@link #MAIN_CLASS}; never includes the token. */
  public List<String> toArgs() {
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "--worker-id",
            workerId.hex(),
            "--node-id",
            nodeId.hex(),
            "--node-manager",
            nodeManagerTarget,
            "--bind-host",
            bindHost,
            "--inline-threshold",
            Integer.toString(inlineThresholdBytes),
            "--max-message-bytes",
            Integer.toString(maxMessageBytes),
            "--object-store",
            objectStoreFile.toString(),
            "--object-store-capacity",
            Long.toString(objectStoreCapacity),
            "--control",
            controlTarget,
            "--unschedulable-timeout-ms",
            Long.toString(unschedulableTimeout.toMillis())));
    if (!serializationAllowList.isEmpty()) {
      args.addAll(List.of("--allow", String.join(",", serializationAllowList)));
    }
    if (sessionDir != null) {
      args.addAll(List.of("--session-dir", sessionDir.toString()));
    }
    if (!observability) {
      args.addAll(List.of("--observability", "false"));
    }
    security
        .tls()
        .ifPresent(
            tls ->
                args.addAll(
                    List.of(
                        "--tls-cert", tls.certChain().toString(),
                        "--tls-key", tls.privateKey().toString(),
                        "--tls-ca", tls.trustedCa().toString())));
    return args;
  }

  /** The environment variables to add to the worker's environment: the cluster token. */
  public Map<String, String> toEnvironment() {
    return Map.of(RpcSecurity.TOKEN_ENV_VAR, security.token());
  }

  /** Parses {@link #toArgs()} output, with the token from {@link #toEnvironment()}'s variable. */
  public static WorkerConfig parse(String[] args, Map<String, String> env) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + args[i]);
      }
      m.put(args[i].substring(2), args[i + 1]);
    }
    String allow = m.getOrDefault("allow", "");
    RpcSecurity security = RpcSecurity.fromEnvironment(env);
    if (m.containsKey("tls-cert") || m.containsKey("tls-key") || m.containsKey("tls-ca")) {
      security =
          security.withTls(
              Path.of(required(m, "tls-cert")),
              Path.of(required(m, "tls-key")),
              Path.of(required(m, "tls-ca")));
    }
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
        Duration.ofMillis(Long.parseLong(required(m, "unschedulable-timeout-ms"))),
        security,
        m.containsKey("session-dir") ? Path.of(m.get("session-dir")) : null,
        Boolean.parseBoolean(m.getOrDefault("observability", "true")));
  }

  private static String required(Map<String, String> m, String key) {
    String v = m.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing --" + key);
    }
    return v;
  }
}
