package dev.sluice.runtime.state;

import dev.sluice.SluiceConfig;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The rule that bounds what recording task events costs an owner (DESIGN "TaskEventSampling"): an
 * owner records new task attempts in detail (every state change, on the owner and on the executor)
 * at {@code perSecond} attempts a second sustained, with bursts of up to {@link #BURST_SECONDS}
 * seconds' worth (a token bucket); attempts beyond that are counted as dropped events, not
 * recorded, except that a failure is always recorded. The decision is taken once, when the task's
 * spec is built, and travels in the spec ({@code record_events}), so the executor and every later
 * event of the attempt cost one field read to skip.
 *
 * <p>Ray's task event buffer bounds the same cost by sending at most a batch of events per interval
 * and dropping the rest; deciding up front instead keeps whole attempts (all their states, or none)
 * and costs nothing for the attempts left out. A job of a few thousand tasks is recorded whole; a
 * driver running tens of thousands of tasks a second records a steady sample.
 *
 * <p>Thread-safe and lock-free (the generic cell rate algorithm: one word, the theoretical time at
 * which the bucket is full again): {@link #admit} is called from every submitting thread.
 */
public final class TaskEventSampling {
  /**
   * Attempts an owner records in detail per second (sustained), by default: 1,000. At 2,000, the
   * recorded attempts cost about 5% of the task throughput of an embedded cluster running 55,000
   * no-op tasks a second on 2 cores (bench, observability on against off: 0.93x-0.95x; with none
   * recorded, metrics and stream counters still on: 0.98x), more than the 5% budget leaves once the
   * rest of observability is paid for.
   */
  public static final int DEFAULT_PER_SECOND = SluiceConfig.DEFAULT_TASK_EVENTS_PER_SECOND;

  /**
   * A burst may use this many seconds' worth of attempts at once. One, not more: a driver that
   * submits a batch of tasks after a pause starts it with a full bucket, and at about 11 µs of CPU
   * per recorded attempt a five-second burst (10,000 attempts at the then default of 2,000 a
   * second) added 1 to 2 points to the cost of observability on a batch of 150,000 tasks (measured:
   * CPU per task 1.06x-1.07x with observability on against 1.05x with a one-second burst).
   */
  public static final int BURST_SECONDS = 1;

  private static final long SECOND_NANOS = 1_000_000_000L;

  private final LongSupplier nanoClock;
  private volatile Rate rate;

  /** When the bucket is full again if nothing more is admitted (nanos of the clock). */
  private final AtomicLong fullAt;

  private final AtomicLong refused = new AtomicLong();

  /** One attempt's share of a second, and how far ahead of now {@code fullAt} may run. */
  private record Rate(int perSecond, long intervalNanos, long toleranceNanos) {
    static Rate of(int perSecond) {
      if (perSecond < 0) {
        throw new IllegalArgumentException("task events per second must be >= 0, got " + perSecond);
      }
      long interval = perSecond == 0 ? Long.MAX_VALUE : SECOND_NANOS / perSecond;
      long tolerance = perSecond == 0 ? 0 : (long) BURST_SECONDS * perSecond * interval;
      return new Rate(perSecond, interval, tolerance);
    }
  }

  /** Admits {@code perSecond} attempts per second of {@code nanoClock}, in bursts too. */
  public TaskEventSampling(int perSecond, LongSupplier nanoClock) {
    this.rate = Rate.of(perSecond);
    this.nanoClock = nanoClock;
    this.fullAt = new AtomicLong(nanoClock.getAsLong());
  }

  /** Admits {@code perSecond} attempts per second of {@link System#nanoTime}. */
  public TaskEventSampling(int perSecond) {
    this(perSecond, System::nanoTime);
  }

  /** Attempts recorded in detail per second, sustained. */
  public int perSecond() {
    return rate.perSecond();
  }

  /** From now on, records {@code perSecond} attempts per second. */
  public void setPerSecond(int perSecond) {
    this.rate = Rate.of(perSecond);
  }

  /**
   * True if the attempt whose spec is being built is recorded in detail; false (and counted) while
   * the bucket is empty.
   */
  public boolean admit() {
    Rate r = rate;
    if (r.perSecond() == 0) {
      refused.incrementAndGet();
      return false;
    }
    long now = nanoClock.getAsLong();
    while (true) {
      long full = fullAt.get();
      long from = full - now > 0 ? full : now;
      long next = from + r.intervalNanos();
      if (next - now > r.toleranceNanos()) {
        refused.incrementAndGet();
        return false;
      }
      if (fullAt.compareAndSet(full, next)) {
        return true;
      }
    }
  }

  /** Attempts left out since the last call (they travel as dropped events with the next batch). */
  public long takeRefused() {
    return refused.getAndSet(0);
  }
}
