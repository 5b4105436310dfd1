package dev.sluice.runtime.daemon;

import dev.sluice.runtime.rpc.RpcSecurity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Settings of one node daemon, as {@code --key value} arguments (what {@code sluice start} and
 * {@code LocalCluster} pass to {@link NodeDaemon}). A head ({@code --head}) runs the control
 * service and a node manager; any other node joins the head at {@code --address}.
 *
 * @param head run the control service next to the node manager
 * @param address the head's control service {@code host:port} (non-head nodes)
 * @param bindHost address the daemon's servers bind to and advertise (loopback by default)
 * @param port the control service's port on a head (0: any free port)
 * @param nodeManagerPort the node manager's port (0: any free port)
 * @param numCpus CPUs the node offers
 * @param resources custom resources the node offers
 * @param numPrestartWorkers worker JVMs started up front
 * @param objectStoreBytes capacity of the node's store (0: 30% of RAM)
 * @param sessionDir this node's session directory (logs, spill)
 * @param readyFile where the daemon writes its addresses once it is up (then returns nothing)
 * @param heartbeatPeriod how often the node manager reports to the control service
 * @param nodeTimeout silence after which the head declares a node dead
 * @param unschedulableTimeout how long tasks no node can serve wait for one
 * @param serializationAllowList user package prefixes allowed in deserialization
 * @param exitOnStdinEof exit when standard input closes (a parent that owns the daemon's life)
 * @param sessionRoot where the head writes the cluster token file (see {@link ClusterCredentials})
 * @param tls mutual TLS files, or null for plaintext
 * @param metricsPort port serving the node's metrics at {@code /metrics} on {@code bindHost} (0:
 *     any free port; -1: none)
 * @param dashboard the head's web dashboard ({@link DashboardSettings#OFF} on other nodes)
 */
public record DaemonConfig(
    boolean head,
    String address,
    String bindHost,
    int port,
    int nodeManagerPort,
    int numCpus,
    Map<String, Double> resources,
    int numPrestartWorkers,
    long objectStoreBytes,
    Path sessionDir,
    Path readyFile,
    Duration heartbeatPeriod,
    Duration nodeTimeout,
    Duration unschedulableTimeout,
    List<String> serializationAllowList,
    boolean exitOnStdinEof,
    Path sessionRoot,
    RpcSecurity.TlsFiles tls,
    int metricsPort,
    DashboardSettings dashboard) {

  /** Default control service port of a head started by the CLI. */
  public static final int DEFAULT_PORT = 6390;

  /** The configuration as {@link NodeDaemon} arguments. */
  public List<String> toArgs() {
    List<String> a = new ArrayList<>();
    if (head) {
      a.add("--head");
    } else {
      a.addAll(List.of("--address", address));
    }
    a.addAll(
        List.of(
            "--bind-host",
            bindHost,
            "--port",
            Integer.toString(port),
            "--node-manager-port",
            Integer.toString(nodeManagerPort),
            "--num-cpus",
            Integer.toString(numCpus),
            "--num-workers",
            Integer.toString(numPrestartWorkers),
            "--object-store-bytes",
            Long.toString(objectStoreBytes),
            "--session-dir",
            sessionDir.toString(),
            "--ready-file",
            readyFile.toString(),
            "--heartbeat-ms",
            Long.toString(heartbeatPeriod.toMillis()),
            "--node-timeout-ms",
            Long.toString(nodeTimeout.toMillis()),
            "--unschedulable-timeout-ms",
            Long.toString(unschedulableTimeout.toMillis())));
    if (!resources.isEmpty()) {
      a.addAll(List.of("--resources", formatResources(resources)));
    }
    if (!serializationAllowList.isEmpty()) {
      a.addAll(List.of("--allow", String.join(",", serializationAllowList)));
    }
    if (exitOnStdinEof) {
      a.add("--exit-on-stdin-eof");
    }
    a.addAll(List.of("--session-root", sessionRoot.toString()));
    if (metricsPort >= 0) {
      a.addAll(List.of("--metrics-port", Integer.toString(metricsPort)));
    }
    if (tls != null) {
      a.addAll(
          List.of(
              "--tls-cert",
              tls.certChain().toString(),
              "--tls-key",
              tls.privateKey().toString(),
              "--tls-ca",
              tls.trustedCa().toString()));
    }
    a.addAll(dashboard.toArgs());
    return a;
  }

  /** Parses {@link #toArgs()} output; rejects unknown or malformed options with a message. */
  public static DaemonConfig parse(String[] args) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String k = args[i];
      if (!k.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + k + "'");
      }
      if (k.equals("--head")
          || k.equals("--exit-on-stdin-eof")
          || k.equals("--dashboard-optional")) {
        m.put(k.substring(2), "true");
      } else if (i + 1 < args.length) {
        m.put(k.substring(2), args[++i]);
      } else {
        throw new IllegalArgumentException("option " + k + " needs a value");
      }
    }
    boolean head = m.containsKey("head");
    String address = m.get("address");
    if (head == (address != null)) {
      throw new IllegalArgumentException("give exactly one of --head and --address HOST:PORT");
    }
    int metricsPort = intOpt(m, "metrics-port", -1);
    if (metricsPort < -1 || metricsPort > 65535) {
      throw new IllegalArgumentException("--metrics-port must be 0 to 65535, got " + metricsPort);
    }
    int cpus = intOpt(m, "num-cpus", Runtime.getRuntime().availableProcessors());
    if (cpus < 0) {
      throw new IllegalArgumentException("--num-cpus must be >= 0, got " + cpus);
    }
    return new DaemonConfig(
        head,
        address,
        m.getOrDefault("bind-host", "127.0.0.1"),
        intOpt(m, "port", DEFAULT_PORT),
        intOpt(m, "node-manager-port", 0),
        cpus,
        parseResources(m.getOrDefault("resources", "")),
        intOpt(m, "num-workers", Math.max(1, Math.min(cpus, 4))),
        Long.parseLong(m.getOrDefault("object-store-bytes", "0")),
        Path.of(required(m, "session-dir")),
        Path.of(required(m, "ready-file")),
        Duration.ofMillis(Long.parseLong(m.getOrDefault("heartbeat-ms", "1000"))),
        Duration.ofMillis(Long.parseLong(m.getOrDefault("node-timeout-ms", "10000"))),
        Duration.ofMillis(Long.parseLong(m.getOrDefault("unschedulable-timeout-ms", "60000"))),
        m.containsKey("allow") ? Arrays.asList(m.get("allow").split(",")) : List.of(),
        m.containsKey("exit-on-stdin-eof"),
        m.containsKey("session-root")
            ? Path.of(m.get("session-root"))
            : dev.sluice.runtime.common.SessionRoots.defaultRoot(),
        tlsFiles(m),
        metricsPort,
        dashboard(m, head));
  }

  private static DashboardSettings dashboard(Map<String, String> m, boolean head) {
    int port = intOpt(m, "dashboard-port", -1);
    if (port < -1 || port > 65535) {
      throw new IllegalArgumentException("--dashboard-port must be 0 to 65535, got " + port);
    }
    if (port >= 0 && !head) {
      throw new IllegalArgumentException("only the head serves a dashboard (--dashboard-port)");
    }
    return port < 0
        ? DashboardSettings.OFF
        : new DashboardSettings(
            port,
            m.getOrDefault("dashboard-host", DashboardSettings.DEFAULT_HOST),
            m.containsKey("dashboard-optional"));
  }

  private static RpcSecurity.TlsFiles tlsFiles(Map<String, String> m) {
    String cert = m.get("tls-cert");
    String key = m.get("tls-key");
    String ca = m.get("tls-ca");
    if (cert == null && key == null && ca == null) {
      return null;
    }
    if (cert == null || key == null || ca == null) {
      throw new IllegalArgumentException(
          "mutual TLS needs all of --tls-cert, --tls-key and " + "--tls-ca");
    }
    return new RpcSecurity.TlsFiles(Path.of(cert), Path.of(key), Path.of(ca));
  }

  /** Parses {@code k=v,k2=v2} into resource amounts; each amount must be a number > 0. */
  public static Map<String, Double> parseResources(String spec) {
    Map<String, Double> r = new LinkedHashMap<>();
    if (spec.isBlank()) {
      return r;
    }
    for (String kv : spec.split(",")) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("resource '" + kv + "' is not name=amount");
      }
      String name = kv.substring(0, eq).trim();
      double amount;
      try {
        amount = Double.parseDouble(kv.substring(eq + 1).trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("resource '" + kv + "' has no numeric amount");
      }
      if (!(amount > 0) || Double.isInfinite(amount) || name.equals("CPU")) {
        throw new IllegalArgumentException(
            "resource '"
                + kv
                + "': amount must be a finite number"
                + " > 0 (and CPUs are set with --num-cpus)");
      }
      r.put(name, amount);
    }
    return r;
  }

  static String formatResources(Map<String, Double> resources) {
    StringBuilder b = new StringBuilder();
    resources.forEach((k, v) -> b.append(b.isEmpty() ? "" : ",").append(k).append('=').append(v));
    return b.toString();
  }

  private static int intOpt(Map<String, String> m, String key, int dflt) {
    String v = m.get(key);
    try {
      return v == null ? dflt : Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + key + " must be an integer, got '" + v + "'");
    }
  }

  private static String required(Map<String, String> m, String key) {
    String v = m.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing --" + key);
    }
    return v;
  }
}
