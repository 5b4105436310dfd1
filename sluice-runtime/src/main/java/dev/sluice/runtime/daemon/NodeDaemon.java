package dev.sluice.runtime.daemon;

import dev.sluice.NodeId;
import dev.sluice.SluiceConfig;
import dev.sluice.runtime.code.PackageStore;
import dev.sluice.runtime.common.OwnerOnlyFiles;
import dev.sluice.runtime.common.SessionDirectories;
import dev.sluice.runtime.control.ControlService;
import dev.sluice.runtime.metrics.MetricsServer;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.node.ClassPathResolver;
import dev.sluice.runtime.node.NodeConfig;
import dev.sluice.runtime.node.NodeManager;
import dev.sluice.runtime.objectmanager.ObjectManager;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node as a process of its own (what {@code sluice start} runs): on a head the control service
 * and a node manager, elsewhere a node manager that joins the head. Worker JVMs get this process's
 * class path, or that of their job's code packages (which a head keeps in its session directory's
 * {@code packages} folder, next to the node's cache of them). Once up it writes its {@link
 * ReadyFile}; it runs until it is terminated (a shutdown hook stops the node manager, which stops
 * its workers and unregisters the node) or, with {@code --exit-on-stdin-eof}, until its parent
 * closes its standard input.
 */
public final class NodeDaemon implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeDaemon.class);

  private final ControlService control;
  private final NodeManager nodeManager;
  private final String controlTarget;
  private final Path sessionRoot;
  private final SluiceMetrics metrics;

  /** Serves {@link #metrics}; null without {@code --metrics-port}. */
  private final MetricsServer metricsServer;

  private final HeadDashboard dashboard;

  private NodeDaemon(
      ControlService control,
      NodeManager nodeManager,
      String controlTarget,
      Path sessionRoot,
      SluiceMetrics metrics,
      MetricsServer metricsServer,
      HeadDashboard dashboard) {
    this.metrics = metrics;
    this.metricsServer = metricsServer;
    this.sessionRoot = sessionRoot;
    this.dashboard = dashboard;
    this.control = control;
    this.nodeManager = nodeManager;
    this.controlTarget = controlTarget;
  }

  /** Starts the daemon's components in this JVM. */
  public static NodeDaemon start(DaemonConfig c) throws IOException {
    SluiceConfig defaults = SluiceConfig.builder().build();
    String token =
        c.head()
            ? System.getenv(RpcSecurity.TOKEN_ENV_VAR)
            : ClusterCredentials.resolveToken(null, System.getenv(), c.sessionRoot(), c.address());
    if (token == null || token.isBlank()) {
      token = RpcSecurity.generateToken();
    }
    RpcSecurity security = RpcSecurity.token(token);
    if (c.tls() != null) {
      security = security.withTls(c.tls());
    }
    // A daemon always records its metrics (its workers push theirs to it); --metrics-port serves
    // them.
    SluiceMetrics metrics = SluiceMetrics.create();
    metrics.bindJvmMetrics();
    RpcFactory rpc =
        new RpcFactory(defaults.maxMessageBytes(), security)
            .timingCalls(
                RpcFactory.CallRecorder.of(metrics::declareRpcMethods, metrics::rpcServed));
    ControlService control = null;
    String controlTarget = c.address();
    if (c.head()) {
      control =
          ControlService.start(
              rpc,
              c.bindHost(),
              c.port(),
              c.nodeTimeout(),
              new PackageStore(
                  c.sessionDir().resolve("packages"), ClassPathResolver.effectiveClassPath()));
      control.exportMetrics(metrics);
      controlTarget = c.bindHost() + ":" + control.port();
      ClusterCredentials.writeToken(c.sessionRoot(), controlTarget, token);
    }
    OwnerOnlyFiles.createDirectories(c.sessionDir().resolve("logs"));
    SessionDirectories.markOwner(c.sessionDir());
    Map<String, Double> resources = new HashMap<>(c.resources());
    resources.put("CPU", (double) c.numCpus());
    long storeBytes = c.objectStoreBytes() > 0 ? c.objectStoreBytes() : defaults.objectStoreBytes();
    NodeManager nm = null;
    try {
      nm =
          NodeManager.start(
              new NodeConfig(
                  NodeId.random(),
                  c.bindHost(),
                  c.nodeManagerPort(),
                  controlTarget,
                  resources,
                  c.numPrestartWorkers(),
                  ClassPathResolver.effectiveClassPath(),
                  List.of(),
                  c.sessionDir(),
                  defaults.workerStartupTimeout(),
                  c.serializationAllowList(),
                  defaults.inlineThresholdBytes(),
                  defaults.maxMessageBytes(),
                  c.heartbeatPeriod(),
                  storeBytes,
                  defaults.objectStoreDirectory(),
                  c.head(),
                  c.unschedulableTimeout(),
                  true,
                  ObjectManager.DEFAULT_MAX_IN_FLIGHT_BYTES,
                  defaults.maxExtraWorkers()),
              rpc,
              metrics);
      HeadDashboard dashboard =
          c.head()
              ? HeadDashboard.start(c.dashboard(), rpc, controlTarget, token)
              : HeadDashboard.NONE;
      MetricsServer server;
      try {
        server =
            c.metricsPort() < 0
                ? null
                : MetricsServer.start(metrics, c.bindHost(), c.metricsPort());
      } catch (IOException e) {
        dashboard.close();
        throw new IOException(
            "cannot serve metrics at " + c.bindHost() + ":" + c.metricsPort() + ": " + e, e);
      }
      return new NodeDaemon(
          control, nm, controlTarget, c.sessionRoot(), metrics, server, dashboard);
    } catch (IOException | RuntimeException e) {
      closeAll(nm, control, metrics);
      throw e;
    }
  }

  private static void closeAll(NodeManager nm, ControlService control, SluiceMetrics metrics) {
    if (nm != null) {
      nm.close();
    }
    if (control != null) {
      control.close();
    }
    metrics.close();
  }

  /** The control service's {@code host:port}. */
  public String controlTarget() {
    return controlTarget;
  }

  /** The node manager. */
  public NodeManager nodeManager() {
    return nodeManager;
  }

  /** Where its metrics are served ({@code host:port}), if they are. */
  public Optional<String> metricsAddress() {
    return Optional.ofNullable(metricsServer).map(MetricsServer::address);
  }

  /** The dashboard's address (without the token), or null when this daemon serves none. */
  public String dashboardUrl() {
    return dashboard.url();
  }

  @Override
  public void close() {
    if (metricsServer != null) {
      metricsServer.close();
    }
    metrics.close();
    dashboard.close();
    nodeManager.close();
    if (control != null) {
      control.close();
      ClusterCredentials.deleteToken(sessionRoot, controlTarget);
    }
  }

  /** Runs a daemon; see {@link DaemonConfig#toArgs()} for the arguments. */
  public static void main(String[] args) throws Exception {
    DaemonConfig config;
    try {
      config = DaemonConfig.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("sluice node: " + e.getMessage());
      System.exit(2);
      return;
    }
    NodeDaemon daemon;
    try {
      daemon = start(config);
    } catch (IOException | RuntimeException e) {
      log.error("node could not start: {}", e.getMessage(), e);
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  daemon.close();
                  stopped.countDown();
                },
                "sluice-daemon-stop"));
    ReadyFile.write(config.readyFile(), daemon);
    log.info(
        "{} node {} up: control service {}, node manager {}, session {}{}",
        config.head() ? "head" : "worker",
        daemon.nodeManager.nodeId(),
        daemon.controlTarget,
        daemon.nodeManager.target(),
        config.sessionDir(),
        daemon.dashboardUrl() != null ? ", dashboard " + daemon.dashboardUrl() : "");
    if (config.exitOnStdinEof()) {
      Thread.ofPlatform()
          .daemon()
          .name("sluice-parent-watch")
          .start(
              () -> {
                drain(System.in);
                log.info("parent closed standard input: node stopping");
                System.exit(0);
              });
    }
    stopped.await();
  }

  private static void drain(InputStream in) {
    byte[] buf = new byte[64];
    try {
      while (in.read(buf) >= 0) {
        // nothing is ever sent; end of file is the signal
      }
    } catch (IOException e) {
      // a broken pipe means the same as end of file
    }
  }

  /**
   * What a started daemon tells its launcher, as a properties file written atomically: the control
   * service and node manager addresses, the node id, the pid, the session directory, where its
   * metrics are served ({@code host:port}, empty if they are not) and, on a head, the dashboard's
   * address (without the token) or why it has none.
   */
  public record ReadyFile(
      String controlTarget,
      String nodeManagerTarget,
      NodeId nodeId,
      long pid,
      Path sessionDir,
      boolean head,
      String metricsAddress,
      String dashboardUrl,
      String dashboardProblem) {

    static void write(Path file, NodeDaemon d) throws IOException {
      Properties p = new Properties();
      p.setProperty("control", d.controlTarget);
      p.setProperty("node_manager", d.nodeManager.target());
      p.setProperty("node_id", d.nodeManager.nodeId().hex());
      p.setProperty("pid", Long.toString(ProcessHandle.current().pid()));
      p.setProperty("session_dir", d.nodeManager.sessionDir().toString());
      p.setProperty("head", Boolean.toString(d.control != null));
      p.setProperty("metrics", d.metricsAddress().orElse(""));
      if (d.dashboard.url() != null) {
        p.setProperty("dashboard", d.dashboard.url());
      }
      if (d.dashboard.problem() != null) {
        p.setProperty("dashboard_problem", d.dashboard.problem());
      }
      OwnerOnlyFiles.createDirectories(file.toAbsolutePath().getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      try (var out = OwnerOnlyFiles.newOutputStream(tmp)) {
        p.store(out, "sluice node");
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Reads a ready file, or returns null if it is not (completely) written yet. */
    public static ReadyFile read(Path file) throws IOException {
      if (!Files.exists(file)) {
        return null;
      }
      Properties p = new Properties();
      try (var in = Files.newInputStream(file)) {
        p.load(in);
      }
      return new ReadyFile(
          p.getProperty("control"),
          p.getProperty("node_manager"),
          NodeId.fromHex(p.getProperty("node_id")),
          Long.parseLong(p.getProperty("pid")),
          Path.of(p.getProperty("session_dir")),
          Boolean.parseBoolean(p.getProperty("head")),
          p.getProperty("metrics", ""),
          p.getProperty("dashboard"),
          p.getProperty("dashboard_problem"));
    }
  }
}
