package dev.sluice.runtime.driver;

import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.RuntimeStartupException;
import dev.sluice.SluiceConfig;
import dev.sluice.WorkerId;
import dev.sluice.runtime.code.CodePackager;
import dev.sluice.runtime.core.CoreWorker;
import dev.sluice.runtime.core.CoreWorkerOptions;
import dev.sluice.runtime.daemon.ClusterCredentials;
import dev.sluice.runtime.node.ClassPathResolver;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.ServingCertificate;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A driver joined to a running cluster ({@code SluiceConfig.address}): it registers a job with the
 * control service and attaches to a node on its own machine (Ray's local raylet), the head's when
 * the head runs here. Through that node it leases workers (requests travel on to other nodes by
 * spillback) and maps the node's object store. Its class path travels with the job: packages the
 * head lacks are uploaded once, and workers of the job run them (see {@link #connect}). Closing it
 * leaves the cluster running, and finishes the job: every node frees the objects of the job (its
 * driver's and its workers'), as its node also has done if the driver process dies first. Its calls
 * to the cluster go through a {@link ClusterClient}.
 */
public final class ClusterDriver extends DriverRuntime {
  private static final Logger log = LoggerFactory.getLogger(ClusterDriver.class);

  private final String controlTarget;
  private final ClusterClient cluster;
  private final JobId job;

  private ClusterDriver(
      CoreWorker driver,
      String controlTarget,
      ClusterClient cluster,
      JobId job,
      DriverMetrics metrics) {
    super(driver, metrics);
    this.controlTarget = controlTarget;
    this.cluster = cluster;
    this.job = job;
  }

  /** Connects to the cluster whose control service is at {@code config.address()}. */
  public static ClusterDriver connect(SluiceConfig config) {
    String controlTarget = config.address().orElseThrow();
    String token =
        ClusterCredentials.resolveToken(
            config.clusterToken().orElse(null),
            System.getenv(),
            EmbeddedCluster.sessionRoot(config),
            controlTarget);
    RpcFactory rpc;
    try {
      rpc = new RpcFactory(config.maxMessageBytes(), EmbeddedCluster.securityOf(config, token));
    } catch (RuntimeException e) {
      throw new RuntimeStartupException(
          "Sluice could not set up RPC security: " + e.getMessage(), e);
    }
    ClusterClient cluster = new ClusterClient(rpc, controlTarget);
    List<NodeInfo> nodes = cluster.nodes(!config.tlsFiles().isEmpty());
    NodeInfo local =
        nodes.stream()
            .filter(NodeInfo::getAlive)
            .filter(ClusterDriver::isLocal)
            .min(Comparator.comparing((NodeInfo n) -> !n.getIsHead()))
            .orElseThrow(
                () ->
                    new RuntimeStartupException(
                        "the cluster at "
                            + controlTarget
                            + " has no live node on"
                            + " this machine ("
                            + nodes.size()
                            + " nodes known); a driver attaches to a node"
                            + " on its own machine: run 'sluice start --address "
                            + controlTarget
                            + "' here"));
    String host = local.getNodeManager().getHost();
    checkServingCertificate(config, host);
    List<String> code = shipCode(config, cluster, controlTarget);
    JobId job = cluster.addJob(code);
    NodeId nodeId = NodeId.fromBytes(local.getNodeId().toByteArray());
    DriverMetrics metrics = DriverMetrics.start(config, RpcFactory.LOOPBACK);
    CoreWorker driver;
    try {
      driver =
          new CoreWorker(
              new CoreWorkerOptions(
                  false,
                  job,
                  WorkerId.random(),
                  nodeId,
                  host,
                  Addresses.target(local.getNodeManager()),
                  config.serializationAllowList(),
                  config.inlineThresholdBytes(),
                  config.maxMessageBytes(),
                  16,
                  Duration.ofMillis(50),
                  Path.of(local.getObjectStoreFile()),
                  local.getObjectStoreCapacity(),
                  controlTarget,
                  config.unschedulableTaskTimeout(),
                  config.cancelGracePeriod(),
                  null),
              metrics.instrument(rpc),
              null,
              metrics.metrics());
    } catch (RuntimeException e) {
      metrics.close();
      throw e;
    }
    driver.limitTaskEvents(config.taskEventsPerSecond());
    if (!config.observability()) {
      driver.disableTaskEvents();
    }
    try {
      cluster.registerDriver(
          Addresses.target(local.getNodeManager()),
          driver.address(),
          job,
          ProcessHandle.current().pid());
    } catch (RuntimeException e) {
      driver.shutdown();
      metrics.close();
      throw new RuntimeStartupException(
          "the driver could not attach to node "
              + nodeId
              + " at "
              + Addresses.target(local.getNodeManager())
              + ": "
              + e.getMessage(),
          e);
    }
    log.info(
        "Sluice driver joined the cluster at {}: job {}, attached to node {} ({} nodes " + "alive)",
        controlTarget,
        job.hex(),
        nodeId,
        nodes.stream().filter(NodeInfo::getAlive).count());
    if (!metrics.served()) {
      driver.reportMetricsToNode(metrics.metrics()); // the node exports this driver's counters
    }
    return new ClusterDriver(driver, controlTarget, cluster, job, metrics);
  }

  /** A driver serves its workers' calls: its certificate must be able to serve at its host. */
  static void checkServingCertificate(SluiceConfig config, String host) {
    List<Path> tls = config.tlsFiles();
    if (tls.isEmpty()) {
      return;
    }
    try {
      ServingCertificate.check(new RpcSecurity.TlsFiles(tls.get(0), tls.get(1), tls.get(2)), host);
    } catch (IllegalArgumentException e) {
      throw new RuntimeStartupException(
          "Sluice could not set up RPC security: " + e.getMessage(), e);
    }
  }

  /**
   * Makes this driver's code available to the cluster (Ray's {@code runtime_env} working_dir):
   * packs its class path ({@code codeSearchPath} if set) into content-addressed packages and
   * uploads those the head lacks. Returns the job's package names in class path order.
   */
  private static List<String> shipCode(
      SluiceConfig config, ClusterClient cluster, String controlTarget) {
    List<Path> classPath =
        config.codeSearchPath().isEmpty()
            ? ClassPathResolver.effectiveClassPath()
            : ClassPathResolver.expand(config.codeSearchPath());
    long t0 = System.nanoTime();
    Path work = null;
    List<CodePackager.CodePackage> packages = List.of();
    try {
      work = Files.createTempDirectory("sluice-code-");
      packages = CodePackager.packages(classPath, work);
      int uploaded = cluster.uploadMissing(packages, config.maxMessageBytes());
      log.info(
          "driver code: {} packages, {} uploaded to {} in {} ms",
          packages.size(),
          uploaded,
          controlTarget,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      return packages.stream().map(CodePackager.CodePackage::sha256).toList();
    } catch (IOException | RuntimeException e) {
      throw new RuntimeStartupException(
          "the driver could not make its code available to the "
              + "cluster at "
              + controlTarget
              + ": "
              + e.getMessage(),
          e);
    } finally {
      CodePackager.deletePacked(packages);
      if (work != null) {
        try {
          Files.deleteIfExists(work);
        } catch (IOException ignored) {
          // an empty temporary directory
        }
      }
    }
  }

  /** A node runs here if its store file is visible and its host is one of this machine's. */
  private static boolean isLocal(NodeInfo n) {
    if (!Files.exists(Path.of(n.getObjectStoreFile()))) {
      return false;
    }
    try {
      InetAddress a = InetAddress.getByName(n.getNodeManager().getHost());
      return a.isLoopbackAddress() || NetworkInterface.getByInetAddress(a) != null;
    } catch (UnknownHostException | SocketException e) {
      return false;
    }
  }

  /** The control service this driver joined. */
  public String controlTarget() {
    return controlTarget;
  }

  @Override
  protected void stopComponents() {
    try {
      cluster.finishJob(job, "its driver shut down");
    } catch (RuntimeException e) {
      log.warn(
          "could not tell the control service at {} that job {} finished (its node will "
              + "when this process exits): {}",
          controlTarget,
          job.hex(),
          e.toString());
    }
    log.info("Sluice driver left the cluster at {}", controlTarget);
  }
}
