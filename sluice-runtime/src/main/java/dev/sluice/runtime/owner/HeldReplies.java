package dev.sluice.runtime.owner;

import dev.sluice.runtime.generator.CreditBatching;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The owner's side of {@link CreditBatching} for one stream (DESIGN "Credit batching"): the report
 * replies held back because their report filled the window, since when a consume has owed them
 * credit, and the timer that answers them once that credit waited {@link
 * CreditBatching#MAX_DELAY_NANOS} without filling a batch.
 *
 * <p>Threads: not thread-safe; its {@link ObjectRefStream} calls it holding the stream's lock. What
 * must run outside the lock (replies, arming the timer) is added to the caller's {@code after}
 * list; the timer calls the stream back, which takes the lock again.
 */
final class HeldReplies {
  /** Runs a task after a delay; the timer of a stream whose credit waits. */
  interface Scheduler {
    void schedule(Runnable task, long delayNanos);
  }

  /** The JDK's shared delay thread; the task runs there, briefly (it sends replies). */
  static final Scheduler DEFAULT_SCHEDULER =
      (task, delayNanos) ->
          CompletableFuture.delayedExecutor(delayNanos, TimeUnit.NANOSECONDS, Runnable::run)
              .execute(task);

  private final CreditBatching rule;
  private final LongSupplier clock;
  private final Scheduler scheduler;
  private final Runnable onTimer;

  private List<ObjectRefStream.ReportReply> held;

  /** When a consume first freed credit the held replies have not carried yet; -1: none owed. */
  private long owedSince = -1;

  private boolean timerArmed;

  /**
   * Held replies under {@code rule}; {@code clock} gives nanoseconds, {@code scheduler} runs {@code
   * onTimer} (which calls {@link #onTimer} under the stream's lock) when owed credit is due.
   */
  HeldReplies(CreditBatching rule, LongSupplier clock, Scheduler scheduler, Runnable onTimer) {
    this.rule = rule;
    this.clock = clock;
    this.scheduler = scheduler;
    this.onTimer = onTimer;
  }

  /**
   * Holds {@code reply} if its report left {@code unconsumed} items unconsumed and so filled the
   * window; false if it is to be answered at once.
   */
  boolean hold(long unconsumed, ObjectRefStream.ReportReply reply) {
    if (!rule.holdsReply(unconsumed)) {
      return false;
    }
    if (held == null) {
      held = new ArrayList<>(2);
    }
    held.add(reply);
    return true;
  }

  /**
   * The consumer took an item, leaving {@code unconsumed}, {@code consumed} in total: answers the
   * held replies if a batch is free, else starts (or keeps) the owed credit's clock.
   */
  void onConsumed(long unconsumed, long consumed, List<Runnable> after) {
    if (held == null || held.isEmpty() || !rule.owesCredit(unconsumed)) {
      return;
    }
    long now = clock.getAsLong();
    if (owedSince < 0) {
      owedSince = now;
    }
    releaseOrArm(unconsumed, consumed, now, after);
  }

  /** The timer fired: answers the held replies if their credit is due, else re-arms. */
  void onTimer(long unconsumed, long consumed, List<Runnable> after) {
    timerArmed = false;
    if (held == null || held.isEmpty() || owedSince < 0) {
      return;
    }
    releaseOrArm(unconsumed, consumed, clock.getAsLong(), after);
  }

  private void releaseOrArm(long unconsumed, long consumed, long now, List<Runnable> after) {
    long owedFor = now - owedSince;
    if (rule.releasesHeld(unconsumed, owedFor)) {
      answerAll(consumed, false, after);
    } else if (!timerArmed) {
      timerArmed = true;
      long delay = CreditBatching.MAX_DELAY_NANOS - owedFor;
      after.add(() -> scheduler.schedule(onTimer, delay));
    }
  }

  /** Answers every held reply with {@code consumed} (or "not found"), now. */
  void answerAll(long consumed, boolean notFound, List<Runnable> after) {
    owedSince = -1;
    if (held == null || held.isEmpty()) {
      return;
    }
    List<ObjectRefStream.ReportReply> out = held;
    held = null;
    after.add(() -> out.forEach(r -> r.send(consumed, notFound)));
  }

  /** Replies held now. */
  int size() {
    return held == null ? 0 : held.size();
  }
}
