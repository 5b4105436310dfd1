package dev.sluice.runtime.owner;

import dev.sluice.runtime.generator.CreditBatching;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The owner's side of {@link CreditBatching} for one stream (DESIGN "Credit batching"): the report
 * replies held back because their report filled the window or a consumer waited for its items,
 * since when they are owed an answer (a consume freed credit, or a reply was held that had credit
 * left), and the timer that answers them once that waited {@link CreditBatching#MAX_DELAY_NANOS}
 * without a batch or the consumer running dry.
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

  /** True if a held reply's report filled the window: a free batch then answers them. */
  private boolean windowFilled;

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
   * window, or if a consumer is {@code consumerWaiting} at the cursor for its items (then answered
   * once that consumer ran dry, at most {@link CreditBatching#MAX_DELAY_NANOS} later); false if it
   * is to be answered at once.
   */
  boolean hold(
      long unconsumed,
      boolean consumerWaiting,
      ObjectRefStream.ReportReply reply,
      List<Runnable> after) {
    boolean fills = rule.holdsReply(unconsumed);
    if (!fills && !rule.defersReply(consumerWaiting)) {
      return false;
    }
    if (held == null) {
      held = new ArrayList<>(2);
    }
    held.add(reply);
    if (fills) {
      windowFilled = true;
    } else {
      // The producer has credit left for this report: the reply is only owed a prompt answer.
      if (owedSince < 0) {
        owedSince = clock.getAsLong();
      }
      arm(CreditBatching.MAX_DELAY_NANOS - (clock.getAsLong() - owedSince), after);
    }
    return true;
  }

  /**
   * The consumer took an item, leaving {@code unconsumed}, {@code consumed} in total, and {@code
   * ranDry} if nothing reported is left at the cursor: answers the held replies if that or a free
   * batch allows, else starts (or keeps) the owed credit's clock.
   */
  void onConsumed(long unconsumed, long consumed, boolean ranDry, List<Runnable> after) {
    if (held == null || held.isEmpty() || !rule.owesCredit(unconsumed)) {
      return;
    }
    long now = clock.getAsLong();
    if (owedSince < 0) {
      owedSince = now;
    }
    releaseOrArm(unconsumed, consumed, ranDry, now, after);
  }

  /** The timer fired: answers the held replies if their credit is due, else re-arms. */
  void onTimer(long unconsumed, long consumed, List<Runnable> after) {
    timerArmed = false;
    if (held == null || held.isEmpty() || owedSince < 0) {
      return;
    }
    if (!rule.owesCredit(unconsumed)) {
      // The window is full again: no reply may go out without credit; the next consume owes it.
      owedSince = -1;
      return;
    }
    releaseOrArm(unconsumed, consumed, false, clock.getAsLong(), after);
  }

  private void releaseOrArm(
      long unconsumed, long consumed, boolean ranDry, long now, List<Runnable> after) {
    long owedFor = now - owedSince;
    if (rule.releasesHeld(unconsumed, owedFor, windowFilled, ranDry)) {
      answerAll(consumed, false, after);
    } else {
      arm(CreditBatching.MAX_DELAY_NANOS - owedFor, after);
    }
  }

  /** Arms the timer to fire in {@code delayNanos}, unless it is armed. */
  private void arm(long delayNanos, List<Runnable> after) {
    if (!timerArmed) {
      timerArmed = true;
      after.add(() -> scheduler.schedule(onTimer, delayNanos));
    }
  }

  /** Answers every held reply with {@code consumed} (or "not found"), now. */
  void answerAll(long consumed, boolean notFound, List<Runnable> after) {
    owedSince = -1;
    windowFilled = false;
    if (held == null || held.isEmpty()) {
      return;
    }
    List<ObjectRefStream.ReportReply> out = held;
    held = null;
    after.add(() -> out.forEach(r -> r.send(consumed, notFound)));
  }

  /** True if a held reply's report filled the window: its producer is out of credit. */
  boolean windowFilled() {
    return windowFilled;
  }

  /** Replies held now. */
  int size() {
    return held == null ? 0 : held.size();
  }
}
