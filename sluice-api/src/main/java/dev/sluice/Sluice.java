package dev.sluice;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The entry point of Sluice: start or join a cluster, run functions as remote tasks, and store and
 * fetch objects.
 *
 * <pre>{@code
 * Sluice.init();
 * ObjectRef<Integer> sum = Sluice.task(MyTasks::add, 1, 2).remote();
 * System.out.println(sum.get());
 * Sluice.shutdown();
 * }</pre>
 *
 * <p>Every method other than {@link #init}, {@link #isInitialized} and {@link #shutdown} throws
 * {@link IllegalStateException} before {@link #init}. All methods are thread-safe. Inside a task
 * running on a worker, Sluice is already initialized and the same calls submit nested tasks.
 */
public final class Sluice extends TaskCalls {
  private static final Object LOCK = new Object();
  private static volatile SluiceRuntime runtime;

  private Sluice() {}

  /** Starts an embedded cluster in this JVM with default settings. */
  public static void init() {
    init(SluiceConfig.builder().build());
  }

  /**
   * Starts an embedded cluster, or joins the one named by {@link SluiceConfig#address()}.
   *
   * @throws IllegalStateException if Sluice is already initialized in this process
   * @throws RuntimeStartupException if a component could not start
   */
  public static void init(SluiceConfig config) {
    Objects.requireNonNull(config, "config");
    synchronized (LOCK) {
      if (runtime != null) {
        throw new IllegalStateException(
            "Sluice is already initialized in this process; call Sluice.shutdown() first");
      }
      SluiceRuntimeFactory factory =
          ServiceLoader.load(SluiceRuntimeFactory.class)
              .findFirst()
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "no Sluice runtime on the class path: add the dev.sluice:sluice-runtime artifact"));
      runtime = factory.create(config);
    }
  }

  /** True between {@link #init} and {@link #shutdown}, and always inside a task on a worker. */
  public static boolean isInitialized() {
    return runtime != null;
  }

  /** Stops everything {@link #init} started, including worker processes. Idempotent. */
  public static void shutdown() {
    SluiceRuntime r;
    synchronized (LOCK) {
      r = runtime;
      runtime = null;
    }
    if (r != null) {
      r.shutdown();
    }
  }

  /** Installs the runtime of a worker process. Called by the runtime itself, never by users. */
  @Internal
  public static void installRuntime(SluiceRuntime workerRuntime) {
    synchronized (LOCK) {
      if (runtime != null) {
        throw new IllegalStateException("a Sluice runtime is already installed");
      }
      runtime = Objects.requireNonNull(workerRuntime);
    }
  }

  static SluiceRuntime runtime() {
    SluiceRuntime r = runtime;
    if (r == null) {
      throw new IllegalStateException(
          "Sluice is not initialized: call Sluice.init() (or Sluice.init(SluiceConfig)) first");
    }
    return r;
  }

  /** Stores {@code value} in the cluster, owned by this process, and returns its ref. */
  public static <T> ObjectRef<T> put(T value) {
    return runtime().put(value);
  }

  /** Blocks until {@code ref}'s value is available and returns it. */
  public static <T> T get(ObjectRef<T> ref) {
    return runtime().get(Objects.requireNonNull(ref, "ref"), null);
  }

  /**
   * Like {@link #get(ObjectRef)} but waits at most {@code timeout}.
   *
   * @throws GetTimeoutException if the value is not available in time
   */
  public static <T> T get(ObjectRef<T> ref, Duration timeout) {
    return runtime().get(Objects.requireNonNull(ref, "ref"), requireTimeout(timeout));
  }

  /** Blocks until every value is available and returns them in input order. */
  public static <T> List<T> get(List<ObjectRef<T>> refs) {
    return runtime().get(List.copyOf(refs), null);
  }

  /**
   * Waits until {@code numReturns} of {@code refs} are ready (value or error available) or {@code
   * timeout} passes, and splits the refs into ready and unready, each in input order. At most
   * {@code numReturns} refs are reported ready.
   *
   * @throws IllegalArgumentException if {@code numReturns} is not in {@code 1..refs.size()}, or the
   *     refs contain duplicates
   */
  public static <T> WaitResult<T> wait(List<ObjectRef<T>> refs, int numReturns, Duration timeout) {
    List<ObjectRef<T>> copy = List.copyOf(refs);
    if (numReturns < 1 || numReturns > copy.size()) {
      throw new IllegalArgumentException(
          "numReturns must be in 1.." + copy.size() + ", got " + numReturns);
    }
    if (copy.stream().map(ObjectRef::id).distinct().count() != copy.size()) {
      throw new IllegalArgumentException("wait() got the same ObjectRef more than once");
    }
    return runtime().wait(copy, numReturns, requireTimeout(timeout));
  }

  /**
   * Waits on a mix of refs and generators, like Ray's {@code ray.wait}: a ref is ready when its
   * value (or error) is available, a generator when its next item or its end is known (so that
   * {@code next()} would not block). Returns when {@code numReturns} inputs are ready or {@code
   * timeout} passes; at most {@code numReturns} are reported ready, each list in input order.
   * Nothing is consumed.
   *
   * <pre>{@code
   * List<Awaitable> pending = List.of(gen1, gen2, ref);
   * AwaitResult<Awaitable> r = Sluice.waitAny(pending, 1, Duration.ofSeconds(1));
   * for (Awaitable a : r.ready()) {
   *   if (a instanceof ObjectRefGenerator<?> g && g.hasNext()) { ... g.next() ... }
   * }
   * }</pre>
   *
   * @throws IllegalArgumentException if {@code numReturns} is not in {@code 1..items.size()}, or an
   *     input appears twice
   */
  public static <A extends Awaitable> AwaitResult<A> waitAny(
      List<A> items, int numReturns, Duration timeout) {
    List<A> copy = List.copyOf(items);
    if (numReturns < 1 || numReturns > copy.size()) {
      throw new IllegalArgumentException(
          "numReturns must be in 1.." + copy.size() + ", got " + numReturns);
    }
    if (copy.stream().distinct().count() != copy.size()) {
      throw new IllegalArgumentException("waitAny() got the same input more than once");
    }
    return runtime().waitAny(copy, numReturns, requireTimeout(timeout));
  }

  /**
   * The live actor named {@code name}, as a handle of class {@code type}; empty if no live actor
   * has that name. Works from the driver, tasks and actors.
   *
   * @throws ClassCastException if the actor's class is not {@code type} or a subclass of it
   */
  public static <A> Optional<ActorHandle<A>> getActor(String name, Class<A> type) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    return runtime().getActor(name, type);
  }

  /**
   * Kills an actor for good, even with restarts left: its process is stopped, and every pending
   * call and every call made after this returns fails with {@link ActorDiedException} ({@link
   * ActorDiedException.Reason#KILLED}). Callable from any process holding the handle; killing a
   * dead actor does nothing.
   */
  public static void kill(ActorHandle<?> actor) {
    runtime().kill(Objects.requireNonNull(actor, "actor"));
  }

  /**
   * Cancels the task that produces {@code ref}: a queued task never runs, a running one is
   * interrupted; if it has not stopped within {@link SluiceConfig#cancelGracePeriod()} (it does not
   * check for interruption), its worker process is killed. Getting {@code ref} then throws {@link
   * TaskCancelledException} and the task's CPU is free again. A cancelled task is never retried.
   * Cancelling a finished task does nothing. Same as {@code cancel(ref, false)}.
   */
  public static void cancel(ObjectRef<?> ref) {
    cancel(ref, false);
  }

  /**
   * Cancels the task that produces {@code ref}; with {@code force} a running task's worker process
   * is killed at once instead of the task being interrupted first (Ray's {@code force=True}). Tasks
   * queued on that worker behind the cancelled one are scheduled again; objects the killed process
   * owned are lost as with any worker crash. Getting {@code ref} then throws {@link
   * TaskCancelledException}. See {@link #cancel(ObjectRef)}.
   */
  public static void cancel(ObjectRef<?> ref, boolean force) {
    runtime().cancel(Objects.requireNonNull(ref, "ref"), force);
  }

  /**
   * Cancels a streaming generator task: a queued task never runs; a running one is interrupted (its
   * iterator closed, or its subscription cancelled), and its worker is killed if it has not stopped
   * within {@link SluiceConfig#cancelGracePeriod()}. The stream then ends, yielding the generator's
   * ref once, whose {@code get()} throws {@link TaskCancelledException}. Same as {@code
   * cancel(generator, false)}.
   */
  public static void cancel(ObjectRefGenerator<?> generator) {
    cancel(generator, false);
  }

  /**
   * Cancels a streaming generator task; with {@code force} a running task's worker process is
   * killed at once (see {@link #cancel(ObjectRef, boolean)}). The stream ends as for {@link
   * #cancel(ObjectRefGenerator)}.
   */
  public static void cancel(ObjectRefGenerator<?> generator, boolean force) {
    runtime().cancel(Objects.requireNonNull(generator, "generator").completed(), force);
  }

  /**
   * A zero-copy, read-only view of a {@code byte[]} object: large objects are read straight from
   * the node's shared memory. See {@link ObjectBuffer} for how long the view stays valid.
   *
   * @throws IllegalArgumentException if the object's value is not a {@code byte[]}
   */
  public static ObjectBuffer getBuffer(ObjectRef<byte[]> ref) {
    return runtime().getBuffer(Objects.requireNonNull(ref, "ref"), null);
  }

  /** Like {@link #getBuffer(ObjectRef)}, waiting at most {@code timeout} for the object. */
  public static ObjectBuffer getBuffer(ObjectRef<byte[]> ref, Duration timeout) {
    return runtime().getBuffer(Objects.requireNonNull(ref, "ref"), requireTimeout(timeout));
  }

  /**
   * Object storage as the calling process sees it: its reference table, its memory store and its
   * node's shared-memory store. Works in the driver and inside tasks.
   */
  public static ObjectStoreStats objectStoreStats() {
    return runtime().objectStoreStats();
  }

  /**
   * The cluster's state: its nodes, workers, tasks, objects, streams and actors, a task summary and
   * a timeline, as its control service knows them (Ray's state API; what {@code sluice list}
   * prints). Works in the driver and inside tasks; each call on the returned {@link ClusterState}
   * asks the control service.
   */
  public static ClusterState state() {
    return runtime().state();
  }

  /** Where the calling code runs: the current task, attempt, node and worker. */
  public static RuntimeContext runtimeContext() {
    return runtime().runtimeContext();
  }

  private static Duration requireTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must be >= 0, got " + timeout);
    }
    return timeout;
  }
}
