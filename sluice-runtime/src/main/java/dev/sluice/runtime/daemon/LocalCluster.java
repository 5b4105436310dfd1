package dev.sluice.runtime.daemon;

import dev.sluice.NodeId;
import dev.sluice.RuntimeStartupException;
import dev.sluice.SluiceConfig;
import dev.sluice.runtime.common.OwnerOnlyFiles;
import dev.sluice.runtime.common.SessionDirectories;
import dev.sluice.runtime.common.SessionRoots;
import dev.sluice.runtime.logging.LogFileNames;
import dev.sluice.runtime.logging.LogTail;
import dev.sluice.runtime.logging.ProcessLogging;
import dev.sluice.runtime.node.ClassPathResolver;
import dev.sluice.runtime.node.NodeManager;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.SocketDirectory;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A multi-node cluster on one machine for tests and benchmarks: a head and more nodes, each a
 * {@link NodeDaemon} JVM of its own with its own object store and workers, started from this JVM's
 * class path (or the one {@link Builder#daemonClassPath} gives). Nodes can be killed ({@code
 * SIGKILL}, as a machine failure looks to the rest) or added while it runs. The daemons watch their
 * standard input, so they (and through them their workers) exit with this JVM even if it is killed;
 * {@link #close()} stops them at once.
 *
 * <p>Nodes bind to loopback unless told otherwise: {@link Builder#nodeNetwork} gives a node its own
 * bind address and a command prefix that launches its daemon elsewhere, e.g. inside a network
 * namespace ({@code ip netns exec NAME}). The prefix must exec the daemon in place, so that the
 * launched process is the daemon and killing it kills the node.
 *
 * <p>Thread-safe: the node list is copy-on-write; starts and kills may come from any thread.
 */
public final class LocalCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalCluster.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  /** How long {@link #kill} waits for a killed node's daemon and workers to be gone. */
  private static final long KILL_WAIT_SECONDS = 30;

  private final Path dir;
  private final Builder settings;
  private final List<Node> nodes = new CopyOnWriteArrayList<>();
  private final String token = RpcSecurity.generateToken();
  private volatile String address;

  /** One node daemon of the cluster. */
  public static final class Node {
    private final Process process;
    private final NodeDaemon.ReadyFile ready;
    private final Path log;
    private final NodeNetwork network;

    private Node(Process process, NodeDaemon.ReadyFile ready, Path log, NodeNetwork network) {
      this.process = process;
      this.ready = ready;
      this.log = log;
      this.network = network;
    }

    /** The node's id. */
    public NodeId nodeId() {
      return ready.nodeId();
    }

    /** The daemon's process id. */
    public long pid() {
      return process.pid();
    }

    /** Whether this node runs the control service. */
    public boolean isHead() {
      return ready.head();
    }

    /** The node manager's {@code host:port}. */
    public String nodeManagerTarget() {
      return ready.nodeManagerTarget();
    }

    /** Whether the daemon process still runs. */
    public boolean isAlive() {
      return process.isAlive();
    }

    /** The node's session directory (logs, spill, cached code packages). */
    public Path sessionDir() {
      return ready.sessionDir();
    }

    /** The daemon's log file. */
    public Path logFile() {
      return log;
    }

    /** The address the node's servers (and its workers') bind to and advertise. */
    public String bindHost() {
      return network.bindHost();
    }

    @Override
    public String toString() {
      return (isHead() ? "head " : "node ") + nodeId() + " (pid " + pid() + ")";
    }
  }

  /**
   * Where a node's daemon runs on the network.
   *
   * @param bindHost the address its servers bind to and advertise
   * @param launchPrefix the command its {@code java} command line is appended to (empty: none); it
   *     must exec the daemon in place, as {@code ip netns exec NAME} does
   */
  public record NodeNetwork(String bindHost, List<String> launchPrefix) {
    /** Loopback, launched directly: the default of every node. */
    public static final NodeNetwork LOOPBACK = new NodeNetwork("127.0.0.1", List.of());

    /** Copies the prefix; rejects a blank host. */
    public NodeNetwork {
      if (bindHost == null || bindHost.isBlank()) {
        throw new IllegalArgumentException("a node needs a bind host");
      }
      launchPrefix = List.copyOf(launchPrefix);
    }
  }

  /** Settings of a local cluster's nodes. */
  public static final class Builder {
    private int nodes = 1;
    private int cpusPerNode = 2;
    private int workersPerNode = 1;
    private long objectStoreBytes = 512L << 20;
    private Duration heartbeatPeriod = Duration.ofMillis(200);
    private Duration nodeTimeout = Duration.ofSeconds(5);
    private Path root = defaultRoot();
    private final List<Map<String, Double>> resources = new ArrayList<>();
    private final Map<Integer, NodeNetwork> networks = new HashMap<>();
    private List<Path> daemonClassPath;

    private Builder() {}

    /**
     * The class path of the node daemons (and so of their prestarted workers); by default this
     * JVM's. A narrower one, such as the runtime without a test's classes, shows what drivers must
     * ship to the cluster themselves.
     */
    public Builder daemonClassPath(List<Path> classPath) {
      this.daemonClassPath = List.copyOf(classPath);
      return this;
    }

    /** How many nodes, the head included (>= 1). */
    public Builder nodes(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("a cluster has at least the head node, got " + n);
      }
      this.nodes = n;
      return this;
    }

    /** CPUs each node offers. */
    public Builder cpusPerNode(int cpus) {
      this.cpusPerNode = cpus;
      return this;
    }

    /** Worker JVMs each node prestarts. */
    public Builder workersPerNode(int workers) {
      this.workersPerNode = workers;
      return this;
    }

    /** Object store capacity of each node. */
    public Builder objectStoreBytes(long bytes) {
      this.objectStoreBytes = bytes;
      return this;
    }

    /** Custom resources of node {@code index} (0 is the head). */
    public Builder resources(int index, Map<String, Double> r) {
      while (resources.size() <= index) {
        resources.add(Map.of());
      }
      resources.set(index, Map.copyOf(r));
      return this;
    }

    /** The address the head binds to and advertises, its control service's included. */
    public Builder headBindHost(String bindHost) {
      return nodeNetwork(0, bindHost, List.of());
    }

    /**
     * Node {@code index} (0 is the head; nodes added later count on) binds to {@code bindHost} and
     * is launched as {@code launchPrefix} followed by its {@code java} command line.
     */
    public Builder nodeNetwork(int index, String bindHost, List<String> launchPrefix) {
      if (index < 0) {
        throw new IllegalArgumentException("node index must be >= 0, got " + index);
      }
      networks.put(index, new NodeNetwork(bindHost, launchPrefix));
      return this;
    }

    /** Heartbeat period and the silence after which a node is declared dead. */
    public Builder health(Duration heartbeat, Duration timeout) {
      this.heartbeatPeriod = heartbeat;
      this.nodeTimeout = timeout;
      return this;
    }

    /**
     * Where the cluster's session directories go: by default the {@code sluice.session.root} system
     * property, as for drivers (the build points it into {@code target/}), else {@code
     * java.io.tmpdir/sluice}.
     */
    public Builder root(Path root) {
      this.root = root;
      return this;
    }

    private static Path defaultRoot() {
      String configured = System.getProperty("sluice.session.root");
      return configured == null || configured.isBlank()
          ? SessionRoots.defaultRoot()
          : Path.of(configured);
    }

    /** Starts the head, then the other nodes in parallel; returns once all are up. */
    public LocalCluster start() {
      LocalCluster c = new LocalCluster(this);
      try {
        c.startNodes();
      } catch (RuntimeException e) {
        c.close();
        throw e;
      }
      return c;
    }

    private Map<String, Double> resourcesOf(int index) {
      return index < resources.size() ? resources.get(index) : Map.of();
    }

    private NodeNetwork networkOf(int index) {
      return networks.getOrDefault(index, NodeNetwork.LOOPBACK);
    }
  }

  /** A builder: one node of 2 CPUs unless told otherwise. */
  public static Builder builder() {
    return new Builder();
  }

  private LocalCluster(Builder settings) {
    this.settings = settings;
    try {
      this.dir =
          SessionDirectories.create(
              settings.root, SessionDirectories.LOCAL_CLUSTER_PREFIX, /* owned= */ true);
    } catch (IOException e) {
      throw new RuntimeStartupException(
          "cannot create the local cluster's directory under "
              + settings.root
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private void startNodes() {
    nodes.add(launch(0, true, Map.of()).join());
    address = nodes.getFirst().ready.controlTarget();
    List<CompletableFuture<Node>> rest = new ArrayList<>();
    for (int i = 1; i < settings.nodes; i++) {
      rest.add(launch(i, false, settings.resourcesOf(i)));
    }
    for (CompletableFuture<Node> f : rest) {
      nodes.add(f.join());
    }
    log.info(
        "local cluster up: {} nodes, control service at {}, session {}",
        nodes.size(),
        address,
        dir);
  }

  /** The control service's {@code host:port}, for {@code SluiceConfig.address}. */
  public String address() {
    return address;
  }

  /** The cluster's token (every node and driver must present it). */
  public String token() {
    return token;
  }

  /** A driver config builder for this cluster: its address and token set. */
  public SluiceConfig.Builder driverConfig() {
    return SluiceConfig.builder().address(address).clusterToken(token);
  }

  /** The nodes started so far, the head first (killed ones included). */
  public List<Node> nodes() {
    return List.copyOf(nodes);
  }

  /** The head node. */
  public Node head() {
    return nodes.getFirst();
  }

  /** Starts one more node with {@code resources} and waits until it is up. */
  public Node addNode(Map<String, Double> resources) {
    Node n = launch(nodes.size(), false, resources).join();
    nodes.add(n);
    return n;
  }

  /**
   * Kills node {@code n}'s daemon with {@code SIGKILL}, as if its machine died, and returns once
   * its workers have exited too (they halt when their node manager is gone, cleaning up after it),
   * so that nothing runs on the node any more; its socket directory is removed.
   */
  public void kill(Node n) {
    log.info("killing {}", n);
    // Taken before the kill: once the daemon is gone its workers are no longer its descendants.
    List<ProcessHandle> workers = n.process.descendants().toList();
    n.process.destroyForcibly();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(KILL_WAIT_SECONDS);
    try {
      if (n.process.waitFor(KILL_WAIT_SECONDS, TimeUnit.SECONDS)) {
        SocketDirectory.removeOf(n.sessionDir());
      }
      for (ProcessHandle w : workers) {
        long left = deadline - System.nanoTime();
        try {
          w.onExit().get(Math.max(0, left), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          log.warn("process {} of killed {} still runs after {} s", w.pid(), n, KILL_WAIT_SECONDS);
        } catch (ExecutionException e) {
          log.debug("could not wait for process {}: {}", w.pid(), e.toString());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private CompletableFuture<Node> launch(int index, boolean head, Map<String, Double> resources) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return launchNow(index, head, resources);
          } catch (IOException e) {
            throw new RuntimeStartupException(
                "cannot start node " + index + " of the local cluster: " + e.getMessage(), e);
          }
        });
  }

  private Node launchNow(int index, boolean head, Map<String, Double> resources)
      throws IOException {
    Path session = dir.resolve("node-" + index);
    Path ready = session.resolve("ready.properties");
    Path logs = LogFileNames.logsDir(session);
    Path logFile = logs.resolve(LogFileNames.DAEMON_LOG);
    Path outFile = logs.resolve(LogFileNames.DAEMON_OUT);
    OwnerOnlyFiles.createDirectories(logs);
    OwnerOnlyFiles.ensureFile(outFile);
    NodeNetwork network = settings.networkOf(index);
    DaemonConfig config =
        new DaemonConfig(
            head,
            head ? null : address,
            network.bindHost(),
            0,
            0,
            settings.cpusPerNode,
            resources,
            settings.workersPerNode,
            settings.objectStoreBytes,
            session,
            ready,
            settings.heartbeatPeriod,
            settings.nodeTimeout,
            Duration.ofSeconds(30),
            List.of(),
            true,
            dir,
            null,
            -1,
            DashboardSettings.OFF);
    List<String> cmd = new ArrayList<>(network.launchPrefix());
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(NodeManager.runtimeJvmOptions());
    cmd.addAll(ProcessLogging.jvmOptions(logFile));
    List<Path> classPath = new ArrayList<>(ProcessLogging.classPath(ProcessLogging.cacheDir(dir)));
    classPath.addAll(
        settings.daemonClassPath != null
            ? settings.daemonClassPath
            : ClassPathResolver.effectiveClassPath());
    cmd.add("-cp");
    cmd.add(ClassPathResolver.join(classPath));
    cmd.add(NodeDaemon.class.getName());
    cmd.addAll(config.toArgs());
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(outFile.toFile()))
            .redirectInput(ProcessBuilder.Redirect.PIPE);
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    pb.environment().put(RpcSecurity.TOKEN_ENV_VAR, token);
    Process p = pb.start();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    try {
      while (System.nanoTime() < deadline) {
        NodeDaemon.ReadyFile r = NodeDaemon.ReadyFile.read(ready);
        if (r != null) {
          return new Node(checkLaunchedInPlace(p, r, index, network), r, logFile, network);
        }
        if (!p.isAlive()) {
          throw new RuntimeStartupException(
              "node "
                  + index
                  + " of the local cluster exited with"
                  + " code "
                  + p.exitValue()
                  + " before it was up; log "
                  + logFile
                  + ":\n"
                  + LogTail.ofProcess(outFile, logFile, 30));
        }
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    p.destroyForcibly();
    throw new RuntimeStartupException(
        "node "
            + index
            + " of the local cluster was not up within "
            + START_TIMEOUT.toSeconds()
            + " s; log "
            + logFile
            + ":\n"
            + LogTail.ofProcess(outFile, logFile, 30));
  }

  /**
   * The launched process must be the daemon itself (a prefix that forks would leave the daemon out
   * of reach of {@link #kill} and {@link #close}); if not, the daemon is killed.
   */
  private static Process checkLaunchedInPlace(
      Process p, NodeDaemon.ReadyFile r, int index, NodeNetwork network) {
    if (r.pid() == p.pid()) {
      return p;
    }
    ProcessHandle.of(r.pid()).ifPresent(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    throw new RuntimeStartupException(
        "node "
            + index
            + " of the local cluster runs as pid "
            + r.pid()
            + ", not as the launched pid "
            + p.pid()
            + ": its launch prefix "
            + network.launchPrefix()
            + " must exec the daemon in place");
  }

  /**
   * Stops every node: asks them to exit (closing their input), then kills what remains; the socket
   * directories of those that did not remove theirs (killed) are removed.
   */
  @Override
  public void close() {
    for (Node n : nodes) {
      n.process.destroy();
    }
    for (Node n : nodes) {
      try {
        if (!n.process.waitFor(10, TimeUnit.SECONDS)) {
          n.process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        n.process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
      if (!n.process.isAlive()) {
        SocketDirectory.removeOf(n.sessionDir());
      }
    }
    log.info("local cluster stopped ({} nodes)", nodes.size());
  }
}
