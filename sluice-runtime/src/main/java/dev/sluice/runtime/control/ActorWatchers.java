package dev.sluice.runtime.control;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One actor's watchers and the entries queued for them, for the {@link ActorTable}: each watcher
 * gets each entry once, in version order, and is never called under the table's lock.
 *
 * <p>Threads: {@link #add} and {@link #publish} run under the table's lock (the one given here) and
 * only queue; {@link #deliver} runs without it, after the change. A thread that finds another one
 * delivering leaves its entries to it, so deliveries of one actor run one at a time, in the order
 * they were queued, whichever threads made the changes.
 */
final class ActorWatchers {
  private static final Logger log = LoggerFactory.getLogger(ActorWatchers.class);

  private final Object lock;

  @GuardedBy("lock")
  private final List<ActorWatch> watchers = new ArrayList<>();

  @GuardedBy("lock")
  private final ArrayDeque<Delivery> outbox = new ArrayDeque<>();

  /** A thread is delivering {@link #outbox}. */
  @GuardedBy("lock")
  private boolean delivering;

  private record Delivery(ActorWatch watch, ActorEntry entry) {}

  /** Watchers guarded by {@code lock}, the table's lock. */
  ActorWatchers(Object lock) {
    this.lock = lock;
  }

  /**
   * A new watcher, sent {@code current} first; it stays for later entries unless {@code current} is
   * final ({@code DEAD}). Called under the table's lock, which is {@code lock} (taken again here,
   * reentrantly, so that the checker sees it).
   */
  ActorWatch add(ActorEntry current, Consumer<ActorEntry> listener) {
    synchronized (lock) {
      ActorWatch watch = new ActorWatch(this, listener);
      outbox.add(new Delivery(watch, current));
      if (current.isLive()) {
        watchers.add(watch);
      }
      return watch;
    }
  }

  /**
   * Queues {@code next} for every watcher; a {@code DEAD} entry is the last, ending them all.
   * Called under the table's lock (taken again here, reentrantly).
   */
  void publish(ActorEntry next) {
    synchronized (lock) {
      for (ActorWatch watch : watchers) {
        outbox.add(new Delivery(watch, next));
      }
      if (!next.isLive()) {
        watchers.clear();
      }
    }
  }

  /** Removes {@code watch}; called by {@link ActorWatch#cancel}. */
  void remove(ActorWatch watch) {
    synchronized (lock) {
      watchers.remove(watch);
    }
  }

  /**
   * Delivers the queued entries unless another thread is delivering them already. Call without the
   * lock, after every change (and {@link #add}).
   */
  void deliver() {
    synchronized (lock) {
      if (delivering || outbox.isEmpty()) {
        return;
      }
      delivering = true;
    }
    boolean done = false;
    try {
      while (!done) {
        Delivery next;
        synchronized (lock) {
          next = outbox.poll();
          if (next == null) {
            delivering = false;
            done = true;
            continue;
          }
        }
        send(next);
      }
    } finally {
      if (!done) {
        synchronized (lock) {
          delivering = false;
        }
      }
    }
  }

  private static void send(Delivery d) {
    try {
      d.watch().send(d.entry());
    } catch (RuntimeException e) {
      log.warn(
          "a watcher of {} failed; its watch is cancelled", ActorDeathMessages.actor(d.entry()), e);
      d.watch().cancel();
    }
  }
}
