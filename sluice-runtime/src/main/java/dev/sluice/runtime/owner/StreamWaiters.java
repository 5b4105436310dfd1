package dev.sluice.runtime.owner;

import dev.sluice.runtime.generator.SharedCredit;
import dev.sluice.runtime.generator.SharedItems;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The consumers waiting on one {@link ObjectRefStream}'s cursor: threads blocked in {@link
 * ObjectRefStream#await} (the condition they wait on, and the change count a pipelined consumer
 * spins on before it blocks), async consumers of {@link ObjectRefStream#pollAsync} (served in call
 * order) and ready watchers of {@link ObjectRefStream#whenReady}. It decides nothing about the
 * stream: the stream says when something changed, whether the cursor has something and what each
 * async consumer gets. Completing a future is never done here directly: it is added to the caller's
 * {@code after} list, to run once the lock is released, because a completion may re-enter the
 * stream or the transport.
 *
 * <p>Threads: not thread-safe; guarded by the stream's lock, which it is given for its condition.
 * The stream calls every method holding that lock; {@link #awaitChange}, {@link #awaitChangeNanos}
 * and {@link #spinForChange} release it while they wait and hold it again when they return.
 */
final class StreamWaiters {
  private final ReentrantLock lock;
  private final Condition changed;

  /** Counts changes, for a consumer spinning outside the lock before it waits. */
  private volatile long changes;

  private ArrayDeque<CompletableFuture<ObjectRefImpl<?>>> asyncConsumers;
  private List<CompletableFuture<Void>> readyWatchers;

  /** The waiters of the stream guarded by {@code lock}. */
  StreamWaiters(ReentrantLock lock) {
    this.lock = lock;
    this.changed = lock.newCondition();
  }

  /** Something changed at the cursor: wakes the blocked and the spinning consumers. */
  void signal() {
    changes++;
    changed.signalAll();
  }

  /**
   * Waits for the next {@link #signal}, releasing the lock meanwhile; a spurious wakeup waits on.
   */
  void awaitChange() throws InterruptedException {
    long seen = changes;
    while (changes == seen) {
      changed.await();
    }
  }

  /**
   * Waits up to {@code nanos} for the next {@link #signal}, releasing the lock meanwhile; a
   * spurious wakeup waits on.
   *
   * @return the nanoseconds left (at most 0 when the time ran out)
   */
  long awaitChangeNanos(long nanos) throws InterruptedException {
    long seen = changes;
    long left = nanos;
    while (changes == seen && left > 0) {
      left = changed.awaitNanos(left);
    }
    return left;
  }

  /**
   * Releases the lock and spins until the next {@link #signal}, an item in {@code ring} (if not
   * null), or for {@link SharedCredit#SPIN_NANOS} (at most {@code timeoutNanos} unless it is
   * negative), then takes the lock again: a pipelined same-node stream's next report is likely
   * microseconds away.
   */
  void spinForChange(long timeoutNanos, SharedItems.Reader ring) {
    long seen = changes;
    long spin =
        timeoutNanos < 0
            ? SharedCredit.SPIN_NANOS
            : Math.min(timeoutNanos, SharedCredit.SPIN_NANOS);
    lock.unlock();
    try {
      SharedCredit.spinUntil(() -> changes != seen || (ring != null && ring.hasNew()), spin);
    } finally {
      lock.lock();
    }
  }

  /** A new async consumer, queued behind the others; the stream serves it with {@link #serve}. */
  CompletableFuture<ObjectRefImpl<?>> addAsyncConsumer() {
    CompletableFuture<ObjectRefImpl<?>> f = new CompletableFuture<>();
    if (asyncConsumers == null) {
      asyncConsumers = new ArrayDeque<>(2);
    }
    asyncConsumers.add(f);
    return f;
  }

  /** True while an async consumer waits. */
  boolean hasAsyncConsumer() {
    return asyncConsumers != null && !asyncConsumers.isEmpty();
  }

  /** Hands {@code ref} (null: the end) to the oldest async consumer, completed in {@code after}. */
  void serve(ObjectRefImpl<?> ref, List<Runnable> after) {
    CompletableFuture<ObjectRefImpl<?>> f = asyncConsumers.poll();
    after.add(() -> f.complete(ref));
  }

  /** A new ready watcher; the stream completes it with {@link #ready} once the cursor has news. */
  CompletableFuture<Void> addReadyWatcher() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    if (readyWatchers == null) {
      readyWatchers = new ArrayList<>(2);
    }
    readyWatchers.add(f);
    return f;
  }

  /** True while a ready watcher waits. */
  boolean hasReadyWatcher() {
    return readyWatchers != null && !readyWatchers.isEmpty();
  }

  /** Something is known at the cursor: every ready watcher so far completes, in {@code after}. */
  void ready(List<Runnable> after) {
    if (!hasReadyWatcher()) {
      return;
    }
    List<CompletableFuture<Void>> ready = new ArrayList<>(readyWatchers);
    readyWatchers.clear();
    after.add(() -> ready.forEach(f -> f.complete(null)));
  }
}
