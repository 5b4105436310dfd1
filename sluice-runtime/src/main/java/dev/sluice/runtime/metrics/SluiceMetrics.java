package dev.sluice.runtime.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * The metrics of one Sluice process (README "Metrics"): owns its Micrometer registry, every
 * documented meter (registered up front, so each is exported at zero before anything happens) and
 * their names. Code that records holds the meter it needs (a pre-registered {@link Counter}) in a
 * final field, so the hot paths (a streamed item, a task reply) pay one striped add and never a
 * lookup, lock or allocation.
 *
 * <p>One instance per process that exports: a node daemon's, an embedded driver's (shared with the
 * control service and node manager in its JVM), a worker's (never served: {@link #drainCounters}
 * and {@link #localGauges} give what it pushes to its node manager, which adds them up with {@link
 * #mergeReport}; made by {@link #pushing}, it keeps its RPC times as {@link PushedRpcTimes} that
 * travel with its counters). Gauges are sums over sources: state objects register a supplier
 * ({@link #addGaugeSource}) read at scrape time, and pushed values of other processes are added
 * while they are fresh.
 *
 * <p>Disabled ({@link #disabled()}, {@code SluiceConfig.observability(false)}): every meter is a
 * Micrometer no-op and nothing is recorded or pushed.
 *
 * <p>Threads: every method is thread-safe; {@link #drainCounters} is meant for one pushing thread.
 */
public final class SluiceMetrics {

  /** Tasks by {@code state}; Prometheus {@value #PROM_TASKS}. */
  public static final String TASKS = "sluice.tasks";

  /** Tasks executing in this node's workers; Prometheus {@value #PROM_TASKS_RUNNING}. */
  public static final String TASKS_RUNNING = "sluice.tasks.running";

  /** Caller-side streams not yet deleted; Prometheus {@value #PROM_STREAMS_OPEN}. */
  public static final String STREAMS_OPEN = "sluice.streams.open";

  /** Streamed items by {@code side}; Prometheus {@value #PROM_STREAM_ITEMS}. */
  public static final String STREAM_ITEMS = "sluice.stream.items";

  /** Time producers spent stalled by backpressure; Prometheus {@value #PROM_BACKPRESSURE}. */
  public static final String STREAM_BACKPRESSURE_WAIT = "sluice.stream.backpressure.wait.seconds";

  /** The node's shared-memory store by {@code kind}; Prometheus {@value #PROM_STORE_BYTES}. */
  public static final String OBJECT_STORE_BYTES = "sluice.object.store.bytes";

  /** The node's worker JVMs by {@code state}; Prometheus {@value #PROM_WORKERS}. */
  public static final String WORKERS = "sluice.workers";

  /** Worker JVMs launched; Prometheus {@value #PROM_WORKER_STARTS}. */
  public static final String WORKER_STARTS = "sluice.worker.starts";

  /** Nodes by {@code state}, on the head; Prometheus {@value #PROM_NODES}. */
  public static final String NODES = "sluice.nodes";

  /**
   * RPCs served, by {@code method}; Prometheus {@value #PROM_RPC_SERVER}. A unary call is timed
   * from its start to its close; a streaming call too, once per call (as gRPC's {@code
   * grpc.server.call.duration}), not per message.
   */
  public static final String RPC_SERVER = "sluice.rpc.server";

  /** Prometheus name of {@link #TASKS}. */
  public static final String PROM_TASKS = "sluice_tasks_total";

  /** Prometheus name of {@link #TASKS_RUNNING}. */
  public static final String PROM_TASKS_RUNNING = "sluice_tasks_running";

  /** Prometheus name of {@link #STREAMS_OPEN}. */
  public static final String PROM_STREAMS_OPEN = "sluice_streams_open";

  /** Prometheus name of {@link #STREAM_ITEMS}. */
  public static final String PROM_STREAM_ITEMS = "sluice_stream_items_total";

  /** Prometheus name of {@link #STREAM_BACKPRESSURE_WAIT}. */
  public static final String PROM_BACKPRESSURE = "sluice_stream_backpressure_wait_seconds_total";

  /** Prometheus name of {@link #OBJECT_STORE_BYTES}. */
  public static final String PROM_STORE_BYTES = "sluice_object_store_bytes";

  /** Prometheus name of {@link #WORKERS}. */
  public static final String PROM_WORKERS = "sluice_workers";

  /** Prometheus name of {@link #WORKER_STARTS}. */
  public static final String PROM_WORKER_STARTS = "sluice_worker_starts_total";

  /** Prometheus name of {@link #NODES}. */
  public static final String PROM_NODES = "sluice_nodes";

  /**
   * Prometheus name of {@link #RPC_SERVER}, a histogram: {@code _bucket}, {@code _count} and {@code
   * _sum} series, and {@code sluice_rpc_server_seconds_max}.
   */
  public static final String PROM_RPC_SERVER = "sluice_rpc_server_seconds";

  /** Every documented Sluice metric, by its Prometheus name (the RPC histogram by its base). */
  public static final List<String> DOCUMENTED =
      List.of(
          PROM_TASKS,
          PROM_TASKS_RUNNING,
          PROM_STREAMS_OPEN,
          PROM_STREAM_ITEMS,
          PROM_BACKPRESSURE,
          PROM_STORE_BYTES,
          PROM_WORKERS,
          PROM_WORKER_STARTS,
          PROM_NODES,
          PROM_RPC_SERVER);

  /** Values of the {@code state} tag of {@link #TASKS}. */
  public enum TaskState {
    SUBMITTED,
    FINISHED,
    FAILED,
    RETRIED,
    CANCELLED
  }

  /** Values of the {@code state} tag of {@link #WORKERS}. */
  public enum WorkerState {
    STARTING,
    IDLE,
    BUSY,
    ACTOR
  }

  /** Values of the {@code kind} tag of {@link #OBJECT_STORE_BYTES}. */
  public enum StoreKind {
    CAPACITY,
    USED,
    SPILLED
  }

  /** Values of the {@code state} tag of {@link #NODES}. */
  public enum NodeState {
    ALIVE,
    DEAD
  }

  /** Values of the {@code side} tag of {@link #STREAM_ITEMS}. */
  public enum Side {
    PRODUCED,
    CONSUMED
  }

  /** Pushed gauge values older than this are no longer added: their sender stopped reporting. */
  static final long REPORT_FRESH_NANOS = TimeUnit.SECONDS.toNanos(15);

  private static final Duration[] RPC_BUCKETS = {
    Duration.ofNanos(250_000),
    Duration.ofMillis(1),
    Duration.ofMillis(5),
    Duration.ofMillis(25),
    Duration.ofMillis(100),
    Duration.ofMillis(500),
    Duration.ofSeconds(2),
    Duration.ofSeconds(10)
  };

  private static final SluiceMetrics DISABLED = new SluiceMetrics(false);

  private final boolean enabled;
  private final PrometheusMeterRegistry registry;
  private final EnumMap<TaskState, Counter> tasks = new EnumMap<>(TaskState.class);
  private final Counter produced;
  private final Counter consumed;
  private final Counter backpressureWait;
  private final Counter workerStarts;
  private final LongAdder running = new LongAdder();
  private final SummedGauge runningGauge;
  private final SummedGauge streamsOpen;
  private final EnumMap<StoreKind, SummedGauge> store = new EnumMap<>(StoreKind.class);
  private final EnumMap<WorkerState, SummedGauge> workers = new EnumMap<>(WorkerState.class);
  private final EnumMap<NodeState, SummedGauge> nodes = new EnumMap<>(NodeState.class);
  private final ConcurrentHashMap<String, Timer> rpcTimers = new ConcurrentHashMap<>();

  /** A pushing process's RPC times (sent with its counters); null in a process that serves. */
  private final PushedRpcTimes pushedRpc;

  /** Replays the RPC times pushed by other processes into this one's timers. */
  private final PushedRpcTimes rpcReplay = new PushedRpcTimes(RPC_BUCKETS);

  /** The counters a process pushes to its node, by wire key, in a fixed order. */
  private final Map<String, Counter> pushedCounters = new LinkedHashMap<>();

  /** The gauges a process pushes to its node, by wire key. */
  private final Map<String, SummedGauge> pushedGauges = new LinkedHashMap<>();

  /** What {@link #drainCounters} last reported of each pushed counter. */
  private final Map<String, Double> drained = new ConcurrentHashMap<>();

  private final List<AutoCloseable> binders = new CopyOnWriteArrayList<>();

  private SluiceMetrics(boolean enabled) {
    this(enabled, false);
  }

  private SluiceMetrics(boolean enabled, boolean pushing) {
    this.enabled = enabled;
    this.pushedRpc = enabled && pushing ? new PushedRpcTimes(RPC_BUCKETS) : null;
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    if (!enabled) {
      registry.config().meterFilter(MeterFilter.deny());
    }
    for (TaskState s : TaskState.values()) {
      Counter c =
          Counter.builder(TASKS)
              .description("Tasks that reached a state (owner side)")
              .tag("state", tag(s))
              .register(registry);
      tasks.put(s, c);
      pushedCounters.put(TASKS + "|" + tag(s), c);
    }
    produced = streamItems(Side.PRODUCED, registry);
    consumed = streamItems(Side.CONSUMED, registry);
    pushedCounters.put(STREAM_ITEMS + "|" + tag(Side.PRODUCED), produced);
    pushedCounters.put(STREAM_ITEMS + "|" + tag(Side.CONSUMED), consumed);
    backpressureWait =
        Counter.builder(STREAM_BACKPRESSURE_WAIT)
            .description("Time streaming producers spent stalled by backpressure")
            .register(registry);
    pushedCounters.put(STREAM_BACKPRESSURE_WAIT, backpressureWait);
    workerStarts =
        Counter.builder(WORKER_STARTS).description("Worker JVMs launched").register(registry);
    runningGauge = gauge(TASKS_RUNNING, "Tasks executing in worker JVMs", null, null);
    runningGauge.sources.add(running::sum);
    pushedGauges.put(TASKS_RUNNING, runningGauge);
    streamsOpen = gauge(STREAMS_OPEN, "Caller-side streams not yet closed", null, null);
    pushedGauges.put(STREAMS_OPEN, streamsOpen);
    for (StoreKind k : StoreKind.values()) {
      store.put(
          k, gauge(OBJECT_STORE_BYTES, "The node's shared-memory object store", "kind", tag(k)));
    }
    for (WorkerState s : WorkerState.values()) {
      workers.put(s, gauge(WORKERS, "The node's worker JVMs", "state", tag(s)));
    }
    for (NodeState s : NodeState.values()) {
      nodes.put(s, gauge(NODES, "Nodes of the cluster (head only)", "state", tag(s)));
    }
  }

  /** Metrics that record, for a process that has observability on. */
  public static SluiceMetrics create() {
    return new SluiceMetrics(true);
  }

  /** Metrics of a process with observability off: no-op meters, nothing recorded or pushed. */
  public static SluiceMetrics disabled() {
    return DISABLED;
  }

  /**
   * Metrics of a process that pushes them to its node manager and never serves them (a worker),
   * recording if {@code enabled}: its RPC times are kept as pushable deltas, not as timers.
   */
  public static SluiceMetrics pushing(boolean enabled) {
    return enabled ? new SluiceMetrics(true, true) : disabled();
  }

  /** Recording ({@link #create()}) or not ({@link #disabled()}). */
  public static SluiceMetrics of(boolean enabled) {
    return enabled ? create() : disabled();
  }

  /** True if this records. */
  public boolean enabled() {
    return enabled;
  }

  /** The registry, for tests and further binders. */
  public MeterRegistry registry() {
    return registry;
  }

  /** Adds the JVM's metrics (memory, GC, threads, processors): for a process that serves. */
  public void bindJvmMetrics() {
    if (!enabled) {
      return;
    }
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    binders.add(gc);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
  }

  /** Everything registered, in Prometheus text format (version 0.0.4). */
  public String scrape() {
    return registry.scrape();
  }

  /** Releases the JVM binders' listeners. */
  public void close() {
    for (AutoCloseable c : binders) {
      try {
        c.close();
      } catch (Exception e) {
        // a listener that cannot be removed is harmless
      }
    }
    binders.clear();
  }

  // ------------------------------------------------------------------ recording

  /** The counter of tasks reaching {@code state} (owner side). */
  public Counter tasks(TaskState state) {
    return tasks.get(state);
  }

  /** The counter of streamed items on {@code side}. */
  public Counter streamItems(Side side) {
    return side == Side.PRODUCED ? produced : consumed;
  }

  /** Adds time a producer spent stalled by backpressure. */
  public void backpressureWaited(long nanos) {
    if (nanos > 0) {
      backpressureWait.increment(nanos / 1e9);
    }
  }

  /** The counter of worker JVMs launched. */
  public Counter workerStarts() {
    return workerStarts;
  }

  /** A task started executing in this process. */
  public void taskStarted() {
    if (enabled) {
      running.increment();
    }
  }

  /** A task stopped executing in this process. */
  public void taskEnded() {
    if (enabled) {
      running.decrement();
    }
  }

  /** Records one RPC served, {@code nanos} long (a streaming one from its start to its close). */
  public void rpcServed(String method, long nanos) {
    if (!enabled) {
      return;
    }
    if (pushedRpc != null) {
      pushedRpc.record(method, nanos);
      return;
    }
    recordRpc(method, nanos);
  }

  private void recordRpc(String method, long nanos) {
    Timer t = rpcTimers.get(method);
    if (t == null) {
      t = rpcTimer(method);
    }
    t.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Registers the timers of {@code methods} (full gRPC names), so they are exported at zero. */
  public void declareRpcMethods(Collection<String> methods) {
    if (enabled && pushedRpc == null) {
      methods.forEach(this::rpcTimer);
    }
  }

  private Timer rpcTimer(String method) {
    return rpcTimers.computeIfAbsent(
        method,
        m ->
            Timer.builder(RPC_SERVER)
                .description("RPCs served by this process (streaming ones per call)")
                .tag("method", m)
                .serviceLevelObjectives(RPC_BUCKETS)
                .register(registry));
  }

  // ------------------------------------------------------------------ gauge sources

  /** What {@link #addGaugeSource} returns: closing it removes the source. */
  public interface Registration extends AutoCloseable {
    @Override
    void close();
  }

  /** Adds {@code source} to the caller-side streams open in this process. */
  public Registration addStreamsOpen(DoubleSupplier source) {
    return addGaugeSource(streamsOpen, source);
  }

  /** Adds {@code source} to the store's bytes of {@code kind}. */
  public Registration addStoreBytes(StoreKind kind, DoubleSupplier source) {
    return addGaugeSource(store.get(kind), source);
  }

  /** Adds {@code source} to the worker JVMs in {@code state}. */
  public Registration addWorkers(WorkerState state, DoubleSupplier source) {
    return addGaugeSource(workers.get(state), source);
  }

  /** Adds {@code source} to the nodes in {@code state}. */
  public Registration addNodes(NodeState state, DoubleSupplier source) {
    return addGaugeSource(nodes.get(state), source);
  }

  private Registration addGaugeSource(SummedGauge gauge, DoubleSupplier source) {
    if (!enabled) {
      return () -> {};
    }
    gauge.sources.add(source);
    return () -> gauge.sources.remove(source);
  }

  // ------------------------------------------------------------------ pushing to the node

  /**
   * What each pushed counter gained since the last call, by wire key (zeros left out; empty when
   * nothing changed). One pushing thread calls it.
   */
  public synchronized Map<String, Double> drainCounters() {
    Map<String, Double> out = new LinkedHashMap<>();
    if (!enabled) {
      return out;
    }
    pushedCounters.forEach(
        (key, c) -> {
          double now = c.count();
          double delta = now - drained.getOrDefault(key, 0.0);
          if (delta > 0) {
            out.put(key, delta);
            drained.put(key, now);
          }
        });
    if (pushedRpc != null) {
      pushedRpc.drainInto(out);
    }
    return out;
  }

  /** This process's own values of the pushed gauges, by wire key (pushed values left out). */
  public Map<String, Double> localGauges() {
    Map<String, Double> out = new LinkedHashMap<>();
    if (enabled) {
      pushedGauges.forEach((key, g) -> out.put(key, g.localValue()));
    }
    return out;
  }

  /**
   * Adds what process {@code sender} pushed: counter deltas are added to this process's counters
   * (so they never go down, even when the sender exits); gauges replace the sender's previous
   * values and count while fresh; RPC times are replayed into this process's timers. Unknown keys
   * (another version's) are ignored.
   */
  public void mergeReport(String sender, Map<String, Double> counterDeltas, Map<String, Double> g) {
    if (!enabled) {
      return;
    }
    boolean rpc = false;
    for (Map.Entry<String, Double> e : counterDeltas.entrySet()) {
      Counter c = pushedCounters.get(e.getKey());
      if (c != null && e.getValue() > 0) {
        c.increment(e.getValue());
      } else if (e.getKey().startsWith(PushedRpcTimes.KEY_PREFIX)) {
        rpc = true;
      }
    }
    if (rpc) {
      rpcReplay.replay(counterDeltas, this::recordRpc);
    }
    long now = System.nanoTime();
    g.forEach(
        (key, value) -> {
          SummedGauge gauge = pushedGauges.get(key);
          if (gauge != null) {
            gauge.pushed.put(sender, new Pushed(value, now));
          }
        });
  }

  /** Process {@code sender} is gone: its pushed gauge values no longer count. */
  public void forgetSender(String sender) {
    pushedGauges.values().forEach(g -> g.pushed.remove(sender));
  }

  private SummedGauge gauge(String name, String description, String tagKey, String tagValue) {
    SummedGauge g = new SummedGauge();
    Gauge.Builder<SummedGauge> b =
        Gauge.builder(name, g, SummedGauge::value).description(description);
    if (tagKey != null) {
      b.tag(tagKey, tagValue);
    }
    b.strongReference(true).register(registry);
    return g;
  }

  private static Counter streamItems(Side side, MeterRegistry registry) {
    return Counter.builder(STREAM_ITEMS)
        .description("Streamed items produced and consumed")
        .tag("side", tag(side))
        .register(registry);
  }

  private static String tag(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  private record Pushed(double value, long atNanos) {}

  /** A gauge's value: its local sources plus the fresh values other processes pushed. */
  private static final class SummedGauge {
    final List<DoubleSupplier> sources = new CopyOnWriteArrayList<>();
    final ConcurrentHashMap<String, Pushed> pushed = new ConcurrentHashMap<>();

    double localValue() {
      double sum = 0;
      for (DoubleSupplier s : sources) {
        sum += s.getAsDouble();
      }
      return sum;
    }

    double value() {
      double sum = localValue();
      long now = System.nanoTime();
      for (Pushed p : pushed.values()) {
        if (now - p.atNanos() < REPORT_FRESH_NANOS) {
          sum += p.value();
        }
      }
      return sum;
    }
  }
}
