package dev.sluice.runtime.node;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's worker JVMs (Ray's WorkerPool): launches them per worker key (the empty key for the
 * node's own code, else a job id), tracks their states, keeps the worker bound, evicts idle workers
 * to make room, stops idle workers beyond the warm pool and kills workers that do not register in
 * time.
 *
 * <p>Threads: guarded by the node manager's lock. Methods named {@code ...Locked} must be called
 * holding it; the others take it themselves and kill processes after releasing it. Fields and
 * private methods are {@code @GuardedBy("lock")}; the package-private {@code ...Locked} methods
 * suppress that check, because their callers (the dispatcher, the node manager, its gRPC service)
 * hold the same lock through their own {@code lock} field, an alias Error Prone cannot see.
 */
final class WorkerPool {
  private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);
  static final int MAX_CONSECUTIVE_START_FAILURES = 3;
  static final long IDLE_WORKER_KEEP_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** Leases one worker may hold at once under the lending rule. */
  static final int MAX_LEASES_PER_WORKER = 64;

  /** Starts one worker process running the code of {@code job} from {@code classPath}. */
  @FunctionalInterface
  interface Launcher {
    WorkerProcess launch(ByteString job, List<Path> classPath) throws IOException;
  }

  private final NodeConfig config;
  private final String advertisedHost;
  private final Object lock;
  private final Launcher launcher;
  private final Consumer<WorkerProcess> onExit;
  private final LongSupplier clock;

  @GuardedBy("lock")
  private final Map<WorkerId, WorkerProcess> workers = new LinkedHashMap<>();

  @GuardedBy("lock")
  private int consecutiveStartFailures;

  /** When the worker-bound warning was last logged (clock), 0: never. */
  @GuardedBy("lock")
  private long workerBoundWarnedNanos;

  /**
   * @param lock the node manager's lock
   * @param onExit called (on a process reaper thread, without the lock) when a worker exits
   * @param clock nanosecond clock ({@code System::nanoTime} outside tests)
   */
  WorkerPool(
      NodeConfig config,
      String advertisedHost,
      Object lock,
      Launcher launcher,
      Consumer<WorkerProcess> onExit,
      LongSupplier clock) {
    this.config = config;
    this.advertisedHost = advertisedHost;
    this.lock = lock;
    this.launcher = launcher;
    this.onExit = onExit;
    this.clock = clock;
  }

  /** Launches a worker for the worker key {@code job} (empty: the node's own code). */
  @SuppressWarnings("GuardedBy") // see the class comment
  WorkerProcess launchLocked(ByteString job, List<Path> classPath) {
    WorkerProcess w;
    try {
      w = launcher.launch(job, classPath);
    } catch (IOException e) {
      log.error("cannot launch a worker process: {}", e.getMessage());
      consecutiveStartFailures++;
      return null;
    }
    workers.put(w.id, w);
    log.debug(
        "launched worker {} (pid {}){}",
        w.id,
        w.pid(),
        job.isEmpty() ? "" : " for job " + jobName(job));
    w.process.onExit().thenRun(() -> onExit.accept(w));
    return w;
  }

  @SuppressWarnings("GuardedBy") // see the class comment
  WorkerProcess getLocked(WorkerId id) {
    return workers.get(id);
  }

  @SuppressWarnings("GuardedBy") // see the class comment
  Collection<WorkerProcess> allLocked() {
    return workers.values();
  }

  @SuppressWarnings("GuardedBy") // see the class comment
  int sizeLocked() {
    return workers.size();
  }

  /** A worker registered: it is idle now. Returns it, or null if it is unknown or not starting. */
  @SuppressWarnings("GuardedBy") // see the class comment
  WorkerProcess registeredLocked(WorkerId id, int port, String localSocket) {
    WorkerProcess w = workers.get(id);
    if (w == null || w.state != WorkerProcess.State.STARTING) {
      return null;
    }
    w.port = port;
    w.localSocket = localSocket;
    w.state = WorkerProcess.State.IDLE;
    w.idleSinceNanos = clock.getAsLong();
    consecutiveStartFailures = 0;
    log.debug(
        "worker {} registered on port {} after {} ms",
        id,
        w.port,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - w.startedNanos));
    return w;
  }

  /** Worker {@code w} exited: it is dead and forgotten. Returns its state before. */
  @SuppressWarnings("GuardedBy") // see the class comment
  WorkerProcess.State exitedLocked(WorkerProcess w) {
    WorkerProcess.State previous = w.state;
    w.state = WorkerProcess.State.DEAD;
    workers.remove(w.id);
    return previous;
  }

  /**
   * Worker {@code w} exited from state {@code previous}: the exit is logged (a worker stopped as
   * asked at debug level), and one that never registered counts as a failed start.
   */
  @SuppressWarnings("GuardedBy") // see the class comment
  void exitSeenLocked(WorkerProcess w, WorkerProcess.State previous) {
    if (previous == WorkerProcess.State.STARTING) {
      startFailedLocked();
      log.error(
          "worker {} (pid {}) exited with code {} before registering; log {}:\n{}",
          w.id,
          w.pid(),
          w.process.exitValue(),
          w.logFile,
          w.logTail(30));
    } else if (previous == WorkerProcess.State.DEAD) {
      log.debug("worker {} (pid {}) stopped as asked", w.id, w.pid());
    } else {
      log.warn(
          "worker {} (pid {}) exited with code {} while {}",
          w.id,
          w.pid(),
          w.process.exitValue(),
          previous);
    }
  }

  /** A worker died before registering. */
  @GuardedBy("lock")
  private void startFailedLocked() {
    consecutiveStartFailures++;
  }

  @SuppressWarnings("GuardedBy") // see the class comment
  int consecutiveStartFailuresLocked() {
    return consecutiveStartFailures;
  }

  @SuppressWarnings("GuardedBy") // see the class comment
  boolean failingToStartLocked() {
    return consecutiveStartFailures >= MAX_CONSECUTIVE_START_FAILURES;
  }

  /** A leased worker whose last lease went: idle again. */
  @SuppressWarnings("GuardedBy") // see the class comment
  void idleLocked(WorkerProcess w) {
    w.state = WorkerProcess.State.IDLE;
    w.allBlocked = false;
    w.idleSinceNanos = clock.getAsLong();
  }

  /** An idle worker of worker key {@code key}, or null. */
  @SuppressWarnings("GuardedBy") // see the class comment
  WorkerProcess idleOfLocked(ByteString key) {
    return workers.values().stream()
        .filter(w -> w.state == WorkerProcess.State.IDLE && !w.forActor && w.job.equals(key))
        .findFirst()
        .orElse(null);
  }

  /**
   * An idle worker of {@code key} for an actor: one started for an actor first, else any idle one
   * (it then leaves the pool for good), or null.
   */
  @SuppressWarnings("GuardedBy") // see the class comment
  WorkerProcess idleForActorLocked(ByteString key) {
    return workers.values().stream()
        .filter(w -> w.state == WorkerProcess.State.IDLE && w.job.equals(key))
        .min((a, b) -> Boolean.compare(b.forActor, a.forActor))
        .orElse(null);
  }

  /**
   * Starts workers for the actor leases waiting for one ({@code waiting}: how many per worker key),
   * beyond the worker bound: an actor holds its worker for its whole life.
   */
  @SuppressWarnings("GuardedBy") // see the class comment
  void startActorWorkersLocked(
      Map<ByteString, Integer> waiting, Function<ByteString, List<Path>> classPathOf) {
    for (Map.Entry<ByteString, Integer> e : waiting.entrySet()) {
      List<Path> classPath = classPathOf.apply(e.getKey());
      long starting =
          workers.values().stream()
              .filter(
                  w ->
                      w.state == WorkerProcess.State.STARTING
                          && w.forActor
                          && w.job.equals(e.getKey()))
              .count();
      for (long s = starting; s < e.getValue() && classPath != null; s++) {
        if (failingToStartLocked()) {
          return;
        }
        WorkerProcess w = launchLocked(e.getKey(), classPath);
        if (w != null) {
          w.forActor = true;
        }
      }
    }
  }

  /**
   * The lending rule: a leased worker of {@code key} whose every task is blocked, with room for
   * another lease ({@code leaseCount} counts its leases), or null.
   */
  @SuppressWarnings("GuardedBy") // see the class comment
  WorkerProcess lendingOfLocked(ByteString key, ToIntFunction<WorkerProcess> leaseCount) {
    return workers.values().stream()
        .filter(
            w ->
                w.state == WorkerProcess.State.LEASED
                    && !w.forActor
                    && w.allBlocked
                    && w.job.equals(key)
                    && leaseCount.applyAsInt(w) < MAX_LEASES_PER_WORKER)
        .findFirst()
        .orElse(null);
  }

  @SuppressWarnings("GuardedBy") // see the class comment
  long idleCountLocked() {
    return workers.values().stream().filter(w -> w.state == WorkerProcess.State.IDLE).count();
  }

  /** Workers not marked dead and not actors' (which are outside the worker bound). */
  @SuppressWarnings("GuardedBy") // see the class comment
  long liveCountLocked() {
    return workers.values().stream()
        .filter(w -> w.state != WorkerProcess.State.DEAD && !w.forActor)
        .count();
  }

  /**
   * The worker bound: one JVM per CPU (or per prestarted worker) plus {@code maxExtraWorkers} for
   * tasks that run while others are blocked. Blocked tasks first run their queued children
   * themselves (the work-helping rule), so the extra room is for children that cannot.
   */
  int maxWorkers() {
    int base = Math.max(config.numPrestartWorkers(), (int) Math.ceil(config.cpus()));
    return Math.max(1, base + config.maxExtraWorkers());
  }

  /**
   * Starts workers for the requests waiting for one ({@code waiting}: how many per worker key);
   * with none waiting, starting or idle, one warm spare of {@code lastGrantedKey} (or of the node's
   * code if that key's code is not ready). At the bound, an idle worker of another key makes room
   * (its kill is added to {@code actions}).
   *
   * @param classPathOf the class path of a key's workers, null while its code is not ready
   * @param pendingCount requests waiting, for the bound's warning
   */
  @SuppressWarnings("GuardedBy") // see the class comment
  void startWorkersLocked(
      Map<ByteString, Integer> waiting,
      ByteString lastGrantedKey,
      Function<ByteString, List<Path>> classPathOf,
      int pendingCount,
      List<Runnable> actions) {
    Map<ByteString, Long> starting = new HashMap<>();
    for (WorkerProcess w : workers.values()) {
      if (w.state == WorkerProcess.State.STARTING && !w.forActor) {
        starting.merge(w.job, 1L, Long::sum);
      }
    }
    // Keep one warm spare: a JVM takes seconds to start, and a worker blocked in get() lends its
    // CPU to the tasks it waits for, which then need a worker at once.
    if (waiting.isEmpty() && starting.isEmpty() && idleCountLocked() == 0) {
      ByteString spare =
          lastGrantedKey.isEmpty() || classPathOf.apply(lastGrantedKey) != null
              ? lastGrantedKey
              : ByteString.EMPTY;
      waiting = Map.of(spare, 1);
    }
    int cap = maxWorkers();
    for (Map.Entry<ByteString, Integer> e : waiting.entrySet()) {
      ByteString key = e.getKey();
      long s = starting.getOrDefault(key, 0L);
      List<Path> classPath = classPathOf.apply(key);
      while (s < e.getValue() && classPath != null && !failingToStartLocked()) {
        if (liveCountLocked() >= cap && !evictIdleLocked(key, actions)) {
          warnAtWorkerBoundLocked(cap, pendingCount);
          break;
        }
        launchLocked(key, classPath);
        s++;
      }
    }
  }

  /** Says (at most once a minute) that lease requests wait because the worker bound is hit. */
  @GuardedBy("lock")
  private void warnAtWorkerBoundLocked(int cap, int pendingCount) {
    long now = clock.getAsLong();
    if (workerBoundWarnedNanos != 0 && now - workerBoundWarnedNanos < TimeUnit.MINUTES.toNanos(1)) {
      return;
    }
    workerBoundWarnedNanos = now;
    log.warn(
        "node {} runs its maximum of {} worker JVMs (CPUs + maxExtraWorkers {}); {} lease "
            + "request(s) wait until a worker is free (blocked tasks run their own queued children)",
        config.nodeId(),
        cap,
        config.maxExtraWorkers(),
        pendingCount);
  }

  /** Stops the longest idle worker of a key other than {@code key}; false if there is none. */
  @GuardedBy("lock")
  private boolean evictIdleLocked(ByteString key, List<Runnable> actions) {
    WorkerProcess victim = null;
    for (WorkerProcess w : workers.values()) {
      if (w.state == WorkerProcess.State.IDLE
          && !w.job.equals(key)
          && (victim == null || w.idleSinceNanos < victim.idleSinceNanos)) {
        victim = w;
      }
    }
    if (victim == null) {
      return false;
    }
    victim.state = WorkerProcess.State.DEAD;
    WorkerProcess v = victim;
    log.debug(
        "stopping idle worker {} to make room for a worker of {}",
        v.id,
        key.isEmpty() ? "the node's code" : "job " + jobName(key));
    actions.add(() -> v.process.destroyForcibly());
    return true;
  }

  /**
   * Kills workers that did not register within the start-up timeout, and idle workers kept longer
   * than {@link #IDLE_WORKER_KEEP_NANOS} beyond the prestarted pool and one spare.
   */
  void enforceTimeouts() {
    long now = clock.getAsLong();
    List<WorkerProcess> toKill = new ArrayList<>();
    synchronized (lock) {
      for (WorkerProcess w : workers.values()) {
        if (w.state == WorkerProcess.State.STARTING
            && now - w.startedNanos > config.workerStartupTimeout().toNanos()) {
          log.error(
              "worker {} (pid {}) did not register within {}; killing it",
              w.id,
              w.pid(),
              config.workerStartupTimeout());
          toKill.add(w);
        } else if (w.state == WorkerProcess.State.IDLE
            // The prestarted pool and the spare stay: the spare is started again as soon as
            // every worker is busy, so stopping it only makes a JVM start at the busiest moment.
            && workers.size() - toKill.size() > config.numPrestartWorkers() + 1
            && idleCountLocked() - toKill.size() > 1
            && now - w.idleSinceNanos > IDLE_WORKER_KEEP_NANOS) {
          toKill.add(w);
        }
      }
      toKill.forEach(w -> w.state = WorkerProcess.State.DEAD);
    }
    toKill.forEach(w -> w.process.destroyForcibly());
  }

  /** Waits until {@code count} workers have registered, for callers that want a warm pool. */
  boolean awaitReady(int count, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < deadline) {
      synchronized (lock) {
        long ready =
            workers.values().stream()
                .filter(
                    w ->
                        w.state == WorkerProcess.State.IDLE
                            || w.state == WorkerProcess.State.LEASED)
                .count();
        if (ready >= count) {
          return true;
        }
      }
      Thread.sleep(10);
    }
    return false;
  }

  /** The addresses of the registered, live workers. */
  List<Address> liveAddresses() {
    List<Address> targets = new ArrayList<>();
    synchronized (lock) {
      for (WorkerProcess w : workers.values()) {
        if (w.state != WorkerProcess.State.STARTING && w.state != WorkerProcess.State.DEAD) {
          targets.add(Addresses.of(w.id, config.nodeId(), advertisedHost, w.port, w.localSocket));
        }
      }
    }
    return targets;
  }

  static String jobName(ByteString job) {
    return HexFormat.of().formatHex(job.toByteArray());
  }
}
