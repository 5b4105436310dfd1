package dev.sluice;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How {@link Sluice#init(SluiceConfig)} starts or joins a cluster. Immutable; build with {@link
 * #builder()}. Invalid values are rejected by the builder with {@link IllegalArgumentException}.
 */
public final class SluiceConfig {
  /** Default of {@link Builder#maxExtraWorkers}. */
  public static final int DEFAULT_MAX_EXTRA_WORKERS = 4;

  /** The default of {@link #cancelGracePeriod()}. */
  public static final Duration DEFAULT_CANCEL_GRACE_PERIOD = Duration.ofSeconds(5);

  private final String address;
  private final int numCpus;
  private final int numWorkers;
  private final int maxExtraWorkers;
  private final Map<String, Double> resources;
  private final long objectStoreBytes;
  private final Path objectStoreDirectory;
  private final List<Path> codeSearchPath;
  private final List<String> serializationAllowList;
  private final int inlineThresholdBytes;
  private final int maxMessageBytes;
  private final List<String> workerJvmOptions;
  private final Path sessionRoot;
  private final Duration workerStartupTimeout;
  private final Duration unschedulableTaskTimeout;
  private final Duration cancelGracePeriod;
  private final String clusterToken;
  private final List<Path> tlsFiles;
  private final boolean observability;
  private final int metricsPort;
  private final int taskEventsPerSecond;

  private SluiceConfig(Builder b) {
    this.observability = b.observability;
    this.metricsPort = b.metricsPort;
    this.taskEventsPerSecond = b.taskEventsPerSecond;
    this.clusterToken = b.clusterToken;
    this.tlsFiles = b.tlsFiles;
    this.unschedulableTaskTimeout = b.unschedulableTaskTimeout;
    this.cancelGracePeriod = b.cancelGracePeriod;
    this.address = b.address;
    this.numCpus = b.numCpus;
    this.numWorkers = b.numWorkers < 0 ? b.numCpus : b.numWorkers;
    this.maxExtraWorkers = b.maxExtraWorkers;
    this.resources = Map.copyOf(b.resources);
    this.objectStoreBytes = b.objectStoreBytes;
    this.objectStoreDirectory = b.objectStoreDirectory;
    this.codeSearchPath = List.copyOf(b.codeSearchPath);
    this.serializationAllowList = List.copyOf(b.serializationAllowList);
    this.inlineThresholdBytes = b.inlineThresholdBytes;
    this.maxMessageBytes = b.maxMessageBytes;
    this.workerJvmOptions = List.copyOf(b.workerJvmOptions);
    this.sessionRoot = b.sessionRoot;
    this.workerStartupTimeout = b.workerStartupTimeout;
  }

  /** A builder with the defaults: an embedded cluster sized to this machine. */
  public static Builder builder() {
    return new Builder();
  }

  /** The cluster to join ({@code host:port} of its head), empty for an embedded cluster. */
  public Optional<String> address() {
    return Optional.ofNullable(address);
  }

  /** The embedded node's CPU resource. */
  public int numCpus() {
    return numCpus;
  }

  /** Worker processes the embedded node prestarts. */
  public int numWorkers() {
    return numWorkers;
  }

  /**
   * Worker JVMs the embedded node may run beyond {@code max(numCpus, numWorkers)}: room for tasks
   * that run while others are blocked in {@code get}. At the limit, tasks wait for a worker.
   */
  public int maxExtraWorkers() {
    return maxExtraWorkers;
  }

  /** Custom resources of the embedded node besides its CPUs (e.g. {@code GPU=1}). */
  public Map<String, Double> resources() {
    return resources;
  }

  /** The embedded node's shared-memory store capacity in bytes. */
  public long objectStoreBytes() {
    return objectStoreBytes;
  }

  /** Directory of the embedded node's shared-memory store file ({@code /dev/shm} by default). */
  public Path objectStoreDirectory() {
    return objectStoreDirectory;
  }

  /** Class path entries workers load user code from; empty means the driver's own class path. */
  public List<Path> codeSearchPath() {
    return codeSearchPath;
  }

  /** Package prefixes whose classes may be deserialized, beyond the JDK's value types. */
  public List<String> serializationAllowList() {
    return serializationAllowList;
  }

  /** Values up to this size travel inline in messages and live in the owner's memory. */
  public int inlineThresholdBytes() {
    return inlineThresholdBytes;
  }

  /** The largest message the transport carries. */
  public int maxMessageBytes() {
    return maxMessageBytes;
  }

  /** Extra JVM options for worker processes. */
  public List<String> workerJvmOptions() {
    return workerJvmOptions;
  }

  /**
   * Directory under which each session keeps its logs; empty means {@code sluice} in the system
   * temp directory. Defaults to the {@code sluice.session.root} system property when it is set.
   */
  public Optional<Path> sessionRoot() {
    return Optional.ofNullable(sessionRoot);
  }

  /** How long a worker process may take to register before it counts as failed. */
  public Duration workerStartupTimeout() {
    return workerStartupTimeout;
  }

  /**
   * How long a task that no node of a running cluster can serve waits for one (nodes may join)
   * before it fails with {@link TaskUnschedulableException}. An embedded cluster never grows, so
   * there such a task fails at once.
   */
  public Duration unschedulableTaskTimeout() {
    return unschedulableTaskTimeout;
  }

  /**
   * How long a task cancelled without force ({@link Sluice#cancel(ObjectRef)}) may take to stop
   * after it was interrupted before its worker process is killed (default 5 s). It applies to the
   * tasks this driver submits; tasks submitted from inside tasks use the default.
   */
  public Duration cancelGracePeriod() {
    return cancelGracePeriod;
  }

  /**
   * The token of the cluster at {@link #address()}, if given here; otherwise the driver reads the
   * {@code SLUICE_CLUSTER_TOKEN} environment variable, then the token file a head on this machine
   * wrote.
   */
  public Optional<String> clusterToken() {
    return Optional.ofNullable(clusterToken);
  }

  /**
   * Mutual TLS files as {@code [certificate chain, private key, trusted CA]} (PEM; the key
   * unencrypted PKCS#8), or empty for plaintext connections. An embedded cluster uses them for all
   * its processes; a driver joining a cluster must match the cluster's choice.
   */
  public List<Path> tlsFiles() {
    return tlsFiles;
  }

  /**
   * Whether this driver (and the embedded cluster it starts) records metrics and reports task and
   * stream events to the cluster's state API (default on, as for daemons). Off, {@code sluice list
   * tasks} and the dashboard do not see this driver's tasks, and its counters stay at zero.
   */
  public boolean observability() {
    return observability;
  }

  /**
   * How many new task attempts per second this driver records in detail as task events (what {@code
   * sluice list tasks}, {@code summary} and {@code timeline} show), sustained; default {@value
   * #DEFAULT_TASK_EVENTS_PER_SECOND}. Bursts of up to one second's worth (1,000 attempts by
   * default) are recorded whole. Beyond that, attempts are counted as dropped events instead
   * (failures are recorded all the same), which keeps the cost of observability within a few
   * percent at tens of thousands of tasks a second, as Ray's bounded task event buffer does.
   * Workers that submit tasks use the default. {@code 0} records failures only.
   */
  public int taskEventsPerSecond() {
    return taskEventsPerSecond;
  }

  /** The default of {@link #taskEventsPerSecond()}. */
  public static final int DEFAULT_TASK_EVENTS_PER_SECOND = 1_000;

  /**
   * The port on which this driver serves its metrics in Prometheus text format at {@code /metrics}
   * (loopback only), if asked: {@code 0} picks a free port. Empty (the default): no metrics
   * endpoint in the driver; daemons serve theirs with {@code sluice start --metrics-port}.
   */
  public OptionalInt metricsPort() {
    return metricsPort < 0 ? OptionalInt.empty() : OptionalInt.of(metricsPort);
  }

  /** Builds {@link SluiceConfig}. */
  public static final class Builder {
    private String address;
    private int numCpus = Runtime.getRuntime().availableProcessors();
    private int numWorkers = -1;
    private int maxExtraWorkers = DEFAULT_MAX_EXTRA_WORKERS;
    private Map<String, Double> resources = Map.of();
    private long objectStoreBytes = defaultObjectStoreBytes();
    private Path objectStoreDirectory = defaultObjectStoreDirectory();
    private List<Path> codeSearchPath = List.of();
    private List<String> serializationAllowList = List.of();
    private int inlineThresholdBytes = 100 * 1024;
    private int maxMessageBytes = 64 << 20;
    private List<String> workerJvmOptions = List.of();
    private Path sessionRoot = defaultSessionRoot();
    private Duration workerStartupTimeout = Duration.ofSeconds(60);
    private Duration unschedulableTaskTimeout = Duration.ofSeconds(60);
    private Duration cancelGracePeriod = DEFAULT_CANCEL_GRACE_PERIOD;
    private String clusterToken;
    private List<Path> tlsFiles = List.of();
    private boolean observability = true;
    private int metricsPort = -1;
    private int taskEventsPerSecond = DEFAULT_TASK_EVENTS_PER_SECOND;

    private Builder() {}

    /** The {@code sluice.session.root} system property, if set (like Ray's RAY_TMPDIR). */
    private static Path defaultSessionRoot() {
      String root = System.getProperty("sluice.session.root");
      return root == null || root.isBlank() ? null : Path.of(root);
    }

    /** 30% of the machine's memory, like Ray; the store's pages are only used as filled. */
    private static long defaultObjectStoreBytes() {
      try {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os) {
          return Math.max(64L << 20, os.getTotalMemorySize() / 10 * 3);
        }
      } catch (RuntimeException | LinkageError ignored) {
        // no memory figure: fall through to a fixed default
      }
      return 2L << 30;
    }

    private static Path defaultObjectStoreDirectory() {
      Path shm = Path.of("/dev/shm");
      return java.nio.file.Files.isDirectory(shm)
          ? shm
          : Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** Joins the cluster whose head listens at {@code host:port}. */
    public Builder address(String hostPort) {
      Objects.requireNonNull(hostPort, "address");
      int colon = hostPort.lastIndexOf(':');
      if (colon <= 0 || colon == hostPort.length() - 1) {
        throw new IllegalArgumentException("address must be host:port, got '" + hostPort + "'");
      }
      try {
        int port = Integer.parseInt(hostPort.substring(colon + 1));
        if (port < 1 || port > 65535) {
          throw new IllegalArgumentException("port out of range in address '" + hostPort + "'");
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("address must be host:port, got '" + hostPort + "'", e);
      }
      this.address = hostPort;
      return this;
    }

    /** The embedded node's CPU resource (>= 1). */
    public Builder numCpus(int numCpus) {
      if (numCpus < 1) {
        throw new IllegalArgumentException("numCpus must be >= 1, got " + numCpus);
      }
      this.numCpus = numCpus;
      return this;
    }

    /** Worker processes to prestart (>= 0; default: one per CPU). */
    public Builder numWorkers(int numWorkers) {
      if (numWorkers < 0) {
        throw new IllegalArgumentException("numWorkers must be >= 0, got " + numWorkers);
      }
      this.numWorkers = numWorkers;
      return this;
    }

    /**
     * Worker JVMs the embedded node may start beyond {@code max(numCpus, numWorkers)} (>= 0,
     * default {@value SluiceConfig#DEFAULT_MAX_EXTRA_WORKERS}).
     */
    public Builder maxExtraWorkers(int extra) {
      if (extra < 0) {
        throw new IllegalArgumentException("maxExtraWorkers must be >= 0, got " + extra);
      }
      this.maxExtraWorkers = extra;
      return this;
    }

    /** Custom resources of the embedded node (names other than {@code CPU}, amounts >= 0). */
    public Builder resources(Map<String, Double> resources) {
      resources.forEach(
          (k, v) -> {
            if ("CPU".equals(k) || v == null || v < 0) {
              throw new IllegalArgumentException(
                  "resource "
                      + k
                      + "="
                      + v
                      + ": set CPUs with "
                      + "numCpus and give other resources amounts >= 0");
            }
          });
      this.resources = Map.copyOf(resources);
      return this;
    }

    /** The embedded node's shared-memory store capacity (>= 1 MiB). */
    public Builder objectStoreBytes(long bytes) {
      if (bytes < (1 << 20)) {
        throw new IllegalArgumentException("objectStoreBytes must be >= 1 MiB, got " + bytes);
      }
      this.objectStoreBytes = bytes;
      return this;
    }

    /**
     * Where the embedded node creates its shared-memory store file: a memory-backed file system
     * ({@code /dev/shm}, the default where it exists). If the directory cannot be created, {@link
     * Sluice#init(SluiceConfig)} fails with a {@link RuntimeStartupException} naming it.
     */
    public Builder objectStoreDirectory(Path dir) {
      this.objectStoreDirectory = Objects.requireNonNull(dir, "objectStoreDirectory");
      return this;
    }

    /** Class path entries (jars or directories) for workers, instead of the driver's own. */
    public Builder codeSearchPath(List<Path> paths) {
      this.codeSearchPath = List.copyOf(paths);
      return this;
    }

    /**
     * Package prefixes (e.g. {@code "com.example."}) whose classes may be deserialized from the
     * wire. The JDK's value and collection types and Sluice's own types are always allowed.
     */
    public Builder serializationAllowList(String... packagePrefixes) {
      for (String p : packagePrefixes) {
        if (p == null || p.isBlank()) {
          throw new IllegalArgumentException("serialization allow-list entries must be non-blank");
        }
      }
      this.serializationAllowList = List.of(packagePrefixes);
      return this;
    }

    /** Values up to this many bytes travel inline (>= 0; default 100 KiB). */
    public Builder inlineThresholdBytes(int bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("inlineThresholdBytes must be >= 0, got " + bytes);
      }
      this.inlineThresholdBytes = bytes;
      return this;
    }

    /** The largest message the transport carries (>= 1 MiB; default 64 MiB). */
    public Builder maxMessageBytes(int bytes) {
      if (bytes < (1 << 20)) {
        throw new IllegalArgumentException("maxMessageBytes must be >= 1 MiB, got " + bytes);
      }
      this.maxMessageBytes = bytes;
      return this;
    }

    /** Extra JVM options for worker processes, e.g. {@code -Xmx2g}. */
    public Builder workerJvmOptions(List<String> options) {
      this.workerJvmOptions = List.copyOf(options);
      return this;
    }

    /** Directory under which sessions keep their logs. */
    public Builder sessionRoot(Path dir) {
      this.sessionRoot = Objects.requireNonNull(dir, "sessionRoot");
      return this;
    }

    /** How long a worker may take to start and register (> 0). */
    public Builder workerStartupTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("workerStartupTimeout must be > 0, got " + timeout);
      }
      this.workerStartupTimeout = timeout;
      return this;
    }

    /** See {@link SluiceConfig#clusterToken()}. */
    public Builder clusterToken(String token) {
      if (token == null || token.isBlank()) {
        throw new IllegalArgumentException("clusterToken must not be blank");
      }
      this.clusterToken = token;
      return this;
    }

    /** Turns on mutual TLS; see {@link SluiceConfig#tlsFiles()}. Each file must exist. */
    public Builder tls(Path certChain, Path privateKey, Path trustedCa) {
      for (Path p : List.of(certChain, privateKey, trustedCa)) {
        if (!java.nio.file.Files.isReadable(p)) {
          throw new IllegalArgumentException(
              "TLS file " + p + " does not exist or is not " + "readable");
        }
      }
      this.tlsFiles = List.of(certChain, privateKey, trustedCa);
      return this;
    }

    /** See {@link SluiceConfig#unschedulableTaskTimeout()}; must be >= 0. */
    public Builder unschedulableTaskTimeout(Duration timeout) {
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("unschedulableTaskTimeout must be >= 0, got " + timeout);
      }
      this.unschedulableTaskTimeout = timeout;
      return this;
    }

    /** See {@link SluiceConfig#cancelGracePeriod()}; must be >= 0 (0: kill right away). */
    public Builder cancelGracePeriod(Duration grace) {
      if (grace.isNegative()) {
        throw new IllegalArgumentException("cancelGracePeriod must be >= 0, got " + grace);
      }
      this.cancelGracePeriod = grace;
      return this;
    }

    /** See {@link SluiceConfig#observability()}. */
    public Builder observability(boolean on) {
      this.observability = on;
      return this;
    }

    /** See {@link SluiceConfig#taskEventsPerSecond()}; 0 records no attempt but failures. */
    public Builder taskEventsPerSecond(int perSecond) {
      if (perSecond < 0 || perSecond > 10_000_000) {
        throw new IllegalArgumentException(
            "taskEventsPerSecond must be in 0..10000000, got " + perSecond);
      }
      this.taskEventsPerSecond = perSecond;
      return this;
    }

    /** See {@link SluiceConfig#metricsPort()}; 0 picks a free port. */
    public Builder metricsPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("metricsPort must be in 0..65535, got " + port);
      }
      this.metricsPort = port;
      return this;
    }

    /** The config. */
    public SluiceConfig build() {
      if (inlineThresholdBytes > maxMessageBytes - (64 << 10)) {
        throw new IllegalArgumentException(
            "inlineThresholdBytes "
                + inlineThresholdBytes
                + " must leave room for the rest of a message under maxMessageBytes "
                + maxMessageBytes
                + " (at most maxMessageBytes - 64 KiB)");
      }
      if (numWorkers > 0 && numWorkers > 4 * numCpus) {
        throw new IllegalArgumentException(
            "numWorkers "
                + numWorkers
                + " is over 4x numCpus "
                + numCpus
                + "; that many idle JVMs only waste memory");
      }
      return new SluiceConfig(this);
    }
  }
}
