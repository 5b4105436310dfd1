package dev.sluice.runtime.owner;

/**
 * How one {@link ObjectRefStream} flows, for the state API: the items its task reported (the
 * highest yield index plus one) and the total time its producer was held back by backpressure (a
 * report answered late because the consumer had {@code threshold} items unconsumed).
 *
 * <p>Not thread-safe: guarded by the stream's lock.
 */
final class StreamFlow {
  private long produced;
  private long stalledNanos;
  private long stallStartNanos = -1;

  /** Yield index {@code index} was reported. */
  void reported(long index) {
    produced = Math.max(produced, index + 1);
  }

  /** A report is being held back: the producer waits from now (if it did not already). */
  void stallStarted(long nowNanos) {
    if (stallStartNanos < 0) {
      stallStartNanos = nowNanos;
    }
  }

  /** Held reports were answered: the producer runs again. */
  void stallEnded(long nowNanos) {
    if (stallStartNanos >= 0) {
      stalledNanos += nowNanos - stallStartNanos;
      stallStartNanos = -1;
    }
  }

  /** True while a stall is under way (started and not yet ended). */
  boolean stalling() {
    return stallStartNanos >= 0;
  }

  long produced() {
    return produced;
  }

  /** Total stalled time up to {@code nowNanos}, counting a stall under way. */
  long stalledNanos(long nowNanos) {
    return stalledNanos + (stallStartNanos >= 0 ? nowNanos - stallStartNanos : 0);
  }
}
