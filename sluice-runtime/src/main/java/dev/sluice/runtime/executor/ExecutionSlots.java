package dev.sluice.runtime.executor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The worker's CPU-lending rule (DESIGN "Nested tasks"): a worker runs its tasks one at a time, in
 * arrival order; when every task it runs is blocked (in {@code get} or {@code wait}, or a producer
 * paused by backpressure) the next queued task starts on a thread of its own, and only a worker
 * with nothing of its own left to start, blocked for {@link #LEND_DELAY}, lends its CPU to its
 * node, which may then lease the worker out again. A blocked task that resumes simply runs on (a
 * brief oversubscription, as in Ray). So a mix of blocked tasks, paused streams and their readers
 * never waits for a CPU or a new JVM that it holds itself.
 *
 * <p>Threads: {@link #add}, {@link #remove}, {@link #blocked} and the queries may be called from
 * any thread; every task runs on a thread of a cached pool owned here, named {@code
 * sluice-task-executor-N}; the lending notices run, in order and coalesced, on one thread owned
 * here. State is guarded by this object's monitor; {@code run} and {@code lend} are called without
 * it.
 *
 * @param <W> a queued task
 */
final class ExecutionSlots<W> {
  /** How long every task must have been blocked before the worker lends its CPU. */
  static final Duration LEND_DELAY = Duration.ofMillis(50);

  private final Consumer<W> run;
  private final Consumer<Boolean> lend;
  private final ExecutorService threads;
  private final ScheduledExecutorService lendNotices;

  @GuardedBy("this")
  private final ArrayDeque<W> queue = new ArrayDeque<>();

  /** Started and not finished, in start order. */
  @GuardedBy("this")
  private final Set<W> running = new LinkedHashSet<>();

  /** How deep each running task is in blocking calls (absent: not blocked). */
  @GuardedBy("this")
  private final Map<W, Integer> blockedDepth = new IdentityHashMap<>();

  /** Running tasks not blocked. */
  @GuardedBy("this")
  private int active;

  @GuardedBy("this")
  private boolean started;

  @GuardedBy("this")
  private boolean stopped;

  private final LongSupplier clock;

  /** Every running task is blocked (the CPU is free), since {@link #allBlockedSince}. */
  @GuardedBy("this")
  private boolean lendWanted;

  @GuardedBy("this")
  private long allBlockedSince;

  /** A lending check is scheduled on the notice thread. */
  @GuardedBy("this")
  private boolean checkScheduled;

  /** The node was told (or is about to be, in order on the notice thread) the CPU is lent. */
  @GuardedBy("this")
  private boolean lent;

  /**
   * Slots that run each task with {@code run} (on a thread of their own) and tell the node with
   * {@code lend} whether the worker's CPU is free because every task it runs is blocked.
   */
  ExecutionSlots(Consumer<W> run, Consumer<Boolean> lend) {
    this(run, lend, System::nanoTime);
  }

  /** As above, with the clock (nanoseconds) that times {@link #LEND_DELAY}; tests pass a fake. */
  ExecutionSlots(Consumer<W> run, Consumer<Boolean> lend, LongSupplier clock) {
    this.clock = clock;
    this.run = run;
    this.lend = lend;
    AtomicInteger n = new AtomicInteger();
    this.threads =
        Executors.newCachedThreadPool(
            r ->
                Thread.ofPlatform()
                    .daemon()
                    .name("sluice-task-executor-" + n.incrementAndGet())
                    .unstarted(r));
    this.lendNotices =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("sluice-cpu-lending").factory());
  }

  /** Starts running tasks: those queued so far, and from now on each as its turn comes. */
  void start() {
    List<W> start;
    synchronized (this) {
      started = true;
      start = startLocked();
    }
    launch(start);
  }

  /** Queues {@code w}; once started, it starts at once if no running task uses the CPU. */
  void add(W w) {
    List<W> start;
    synchronized (this) {
      queue.add(w);
      start = startLocked();
    }
    launch(start);
  }

  /** Removes and returns the queued (not started) tasks {@code which} accepts, in queue order. */
  synchronized List<W> remove(Predicate<W> which) {
    List<W> out = new ArrayList<>();
    for (Iterator<W> it = queue.iterator(); it.hasNext(); ) {
      W w = it.next();
      if (which.test(w)) {
        it.remove();
        out.add(w);
      }
    }
    return out;
  }

  /** The next queued task, or null. */
  synchronized W peekQueued() {
    return queue.peek();
  }

  /** The running tasks, in start order. */
  synchronized List<W> running() {
    return new ArrayList<>(running);
  }

  /** Nothing running or queued. */
  synchronized boolean isIdle() {
    return running.isEmpty() && queue.isEmpty();
  }

  /**
   * Running task {@code w} entered ({@code true}) or left a blocking call. Calls nest; only the
   * outermost counts. Entering may start the next queued task or lend the CPU.
   */
  void blocked(W w, boolean entering) {
    List<W> start = List.of();
    synchronized (this) {
      if (!running.contains(w)) {
        return;
      }
      int depth = blockedDepth.getOrDefault(w, 0) + (entering ? 1 : -1);
      if (depth > 0) {
        blockedDepth.put(w, depth);
        if (entering && depth == 1) {
          active--;
          start = startLocked();
        }
      } else {
        blockedDepth.remove(w);
        if (!entering && depth == 0) {
          active++;
        }
      }
      updateLendLocked();
    }
    launch(start);
  }

  /** Stops starting tasks; queued ones are dropped. Running ones are interrupted by the caller. */
  void stop() {
    synchronized (this) {
      stopped = true;
      queue.clear();
    }
    threads.shutdown();
  }

  /** Starts queued tasks while no running task uses the CPU. */
  @GuardedBy("this")
  private List<W> startLocked() {
    List<W> start = new ArrayList<>(1);
    if (started && !stopped && active == 0 && !queue.isEmpty()) {
      W w = queue.poll();
      running.add(w);
      active++;
      start.add(w);
    }
    updateLendLocked();
    return start;
  }

  private void launch(List<W> start) {
    for (W w : start) {
      try {
        threads.execute(() -> runToEnd(w));
      } catch (RejectedExecutionException e) {
        finished(w);
      }
    }
  }

  private void runToEnd(W w) {
    try {
      run.accept(w);
    } finally {
      finished(w);
    }
  }

  private void finished(W w) {
    List<W> start;
    synchronized (this) {
      running.remove(w);
      if (blockedDepth.remove(w) == null) {
        active--;
      }
      start = startLocked();
    }
    launch(start);
  }

  /**
   * The CPU is lent once tasks run and every one of them has been blocked for {@link #LEND_DELAY}
   * without a break; it is taken back when one runs again. A producer paused for credit thousands
   * of times a second thus costs one pending check, not a notice per pause, and lends nothing.
   */
  @GuardedBy("this")
  private void updateLendLocked() {
    boolean want = active == 0 && !running.isEmpty();
    if (want == lendWanted) {
      return;
    }
    lendWanted = want;
    try {
      if (want) {
        // Lend only a CPU that stays free: a producer waiting a moment for its consumer, or a
        // get answered at once, keeps its worker (another lease would share its JVM, and its
        // fate if one of them kills the process).
        allBlockedSince = clock.getAsLong();
        if (!checkScheduled) {
          checkScheduled = true;
          lendNotices.schedule(this::checkLend, LEND_DELAY.toNanos(), TimeUnit.NANOSECONDS);
        }
      } else if (lent) {
        lent = false;
        lendNotices.execute(() -> lend.accept(false));
      }
    } catch (RejectedExecutionException e) {
      // stopping
    }
  }

  /** On the notice thread: lends the CPU if every task has been blocked for the lend delay. */
  private void checkLend() {
    synchronized (this) {
      checkScheduled = false;
      if (!lendWanted || lent) {
        return;
      }
      long blockedFor = clock.getAsLong() - allBlockedSince;
      if (blockedFor < LEND_DELAY.toNanos()) {
        checkScheduled = true;
        try {
          lendNotices.schedule(
              this::checkLend, LEND_DELAY.toNanos() - blockedFor, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
          // stopping
        }
        return;
      }
      lent = true;
    }
    // Taking the CPU back is queued behind this on the same thread, so the node hears both in
    // order.
    lend.accept(true);
  }
}
