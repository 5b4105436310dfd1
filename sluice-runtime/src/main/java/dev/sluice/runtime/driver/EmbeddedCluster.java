package dev.sluice.runtime.driver;

import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.RuntimeStartupException;
import dev.sluice.SluiceConfig;
import dev.sluice.WorkerId;
import dev.sluice.runtime.common.SessionDirectories;
import dev.sluice.runtime.control.ControlService;
import dev.sluice.runtime.core.CoreWorker;
import dev.sluice.runtime.core.CoreWorkerOptions;
import dev.sluice.runtime.node.ClassPathResolver;
import dev.sluice.runtime.node.NodeConfig;
import dev.sluice.runtime.node.NodeManager;
import dev.sluice.runtime.objectmanager.ObjectManager;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.ServingCertificate;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded local cluster {@code Sluice.init()} starts: a control service and one node manager
 * in the driver JVM on loopback TCP, worker JVMs launched from the driver's class path, and the
 * driver's own core worker. Closing it stops all of them; a JVM shutdown hook does the same if the
 * program exits without {@code Sluice.shutdown()}.
 */
public final class EmbeddedCluster extends DriverRuntime {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedCluster.class);

  private final RpcFactory rpc;
  private final ControlService control;
  private final NodeManager nodeManager;
  private final Path sessionDir;

  private EmbeddedCluster(
      RpcFactory rpc,
      ControlService control,
      NodeManager nodeManager,
      CoreWorker driver,
      Path sessionDir,
      DriverMetrics metrics) {
    super(driver, metrics);
    this.rpc = rpc;
    this.control = control;
    this.nodeManager = nodeManager;
    this.sessionDir = sessionDir;
  }

  /** Starts the embedded cluster described by {@code config}, with a fresh cluster token. */
  public static EmbeddedCluster start(SluiceConfig config) {
    return start(config, securityOf(config, RpcSecurity.generateToken()));
  }

  /** The token, with the config's TLS files if it has any. */
  static RpcSecurity securityOf(SluiceConfig config, String token) {
    RpcSecurity s = RpcSecurity.token(token);
    List<Path> tls = config.tlsFiles();
    return tls.isEmpty() ? s : s.withTls(tls.get(0), tls.get(1), tls.get(2));
  }

  /**
   * Starts the embedded cluster described by {@code config}; every RPC of the cluster, its worker
   * processes included, is secured by {@code security}.
   */
  public static EmbeddedCluster start(SluiceConfig config, RpcSecurity security) {
    long t0 = System.nanoTime();
    RpcFactory rpc;
    try {
      rpc = new RpcFactory(config.maxMessageBytes(), security);
    } catch (IllegalArgumentException e) {
      throw new RuntimeStartupException(
          "Sluice could not set up RPC security: " + e.getMessage(), e);
    }
    String host = RpcFactory.LOOPBACK;
    if (security.tls().isPresent()) {
      try {
        ServingCertificate.check(security.tls().get(), host);
      } catch (IllegalArgumentException e) {
        throw new RuntimeStartupException(
            "Sluice could not set up RPC security: " + e.getMessage(), e);
      }
    }
    Path sessionDir = createSessionDir(config);
    ControlService control = null;
    NodeManager nm = null;
    DriverMetrics metrics = DriverMetrics.start(config, host);
    rpc = metrics.instrument(rpc);
    try {
      List<Path> classPath =
          config.codeSearchPath().isEmpty()
              ? ClassPathResolver.effectiveClassPath()
              : ClassPathResolver.expand(config.codeSearchPath());
      // No package store: the job's code is the node's own class path, nothing is uploaded.
      control = ControlService.start(rpc, host, 0, Duration.ofSeconds(30));
      control.keepTaskEvents(config.observability());
      control.exportMetrics(metrics.metrics());
      String controlTarget = host + ":" + control.port();
      NodeId nodeId = NodeId.random();
      nm =
          NodeManager.start(
              new NodeConfig(
                  nodeId,
                  host,
                  0,
                  controlTarget,
                  nodeResources(config),
                  config.numWorkers(),
                  classPath,
                  config.workerJvmOptions(),
                  sessionDir,
                  config.workerStartupTimeout(),
                  config.serializationAllowList(),
                  config.inlineThresholdBytes(),
                  config.maxMessageBytes(),
                  Duration.ofSeconds(1),
                  config.objectStoreBytes(),
                  config.objectStoreDirectory(),
                  true,
                  Duration.ZERO,
                  true,
                  ObjectManager.DEFAULT_MAX_IN_FLIGHT_BYTES,
                  config.maxExtraWorkers()),
              rpc,
              metrics.metrics());
      JobId job = new ClusterClient(rpc, controlTarget).addJob(List.of());
      CoreWorker driver =
          new CoreWorker(
              new CoreWorkerOptions(
                  false,
                  job,
                  WorkerId.random(),
                  nodeId,
                  host,
                  nm.target(),
                  config.serializationAllowList(),
                  config.inlineThresholdBytes(),
                  config.maxMessageBytes(),
                  16,
                  Duration.ofMillis(50),
                  nm.objectStore().file(),
                  nm.objectStore().capacity(),
                  controlTarget,
                  Duration.ZERO,
                  config.cancelGracePeriod(),
                  sessionDir),
              rpc,
              nm.objectStore(),
              metrics.metrics());
      nm.onWorkerExit(driver::onWorkerDied);
      driver.limitTaskEvents(config.taskEventsPerSecond());
      if (!config.observability()) {
        driver.disableTaskEvents();
      }
      log.info(
          "Sluice embedded cluster up in {} ms: job {}, node {}, {} CPUs, {} workers "
              + "starting, TLS {}, session {}",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
          job.hex(),
          nodeId,
          config.numCpus(),
          config.numWorkers(),
          security.tls().isPresent() ? "on" : "off",
          sessionDir);
      return new EmbeddedCluster(rpc, control, nm, driver, sessionDir, metrics);
    } catch (RuntimeException e) {
      if (nm != null) {
        nm.close();
      }
      if (control != null) {
        control.close();
      }
      metrics.close();
      throw e instanceof RuntimeStartupException
          ? e
          : new RuntimeStartupException("Sluice could not start: " + e.getMessage(), e);
    } catch (IOException e) {
      if (control != null) {
        control.close();
      }
      metrics.close();
      throw new RuntimeStartupException(
          "Sluice could not start its control service: " + e.getMessage(), e);
    }
  }

  /** Where session directories go: the configured root, else {@code java.io.tmpdir/sluice}. */
  static Path sessionRoot(SluiceConfig config) {
    return config.sessionRoot().orElseGet(dev.sluice.runtime.common.SessionRoots::defaultRoot);
  }

  private static Map<String, Double> nodeResources(SluiceConfig config) {
    Map<String, Double> resources = new java.util.HashMap<>(config.resources());
    resources.put("CPU", (double) config.numCpus());
    return Map.copyOf(resources);
  }

  private static Path createSessionDir(SluiceConfig config) {
    Path root = sessionRoot(config);
    try {
      return SessionDirectories.create(root, SessionDirectories.SESSION_PREFIX, true);
    } catch (IOException e) {
      throw new RuntimeStartupException(
          "cannot create a session directory under " + root + ": " + e.getMessage(), e);
    }
  }

  /** The session directory (logs live in its {@code logs} folder). */
  public Path sessionDir() {
    return sessionDir;
  }

  /**
   * The cluster's RPC factory: channels from it carry the cluster token, so tools and tests in this
   * JVM can call the cluster's services.
   */
  public RpcFactory rpc() {
    return rpc;
  }

  /** The embedded node manager. */
  public NodeManager nodeManager() {
    return nodeManager;
  }

  @Override
  protected void stopComponents() {
    nodeManager.close();
    control.close();
    log.info("Sluice embedded cluster stopped");
  }
}
