package dev.sluice.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Time-based warm-ups and round parts of a measurement, run where the measurement lives (in a peer
 * group's child JVM, see {@link PeerMain}): a part runs the measurement's fixed-size batch ({@link
 * Measurement#runRound()}) until at least the policy's part time has passed ({@link #runFor}); a
 * warm-up runs the measurement's own fixed minimum ({@link Measurement#warmUp()}, e.g. 20,000 round
 * trips), then timed windows until the last {@value RoundPolicy#STABLE_WINDOWS} agree within the
 * tolerance ({@link #warmUp}), so the first timed round is not a cold one.
 *
 * <p>Threads: runs on the caller's thread; not shared.
 */
final class SteadyRounds {
  private final LongSupplier nanoClock;

  /** Timed by {@code nanoClock} (in the bench: {@link System#nanoTime}). */
  SteadyRounds(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /** Timed by {@link System#nanoTime}. */
  SteadyRounds() {
    this(System::nanoTime);
  }

  /**
   * Runs batches of {@code m} (at least one) until {@code minNanos} have passed, and returns them
   * combined ({@link RoundPart#combine}).
   */
  RoundPart runFor(Measurement m, long minNanos) throws Exception {
    long start = nanoClock.getAsLong();
    List<RoundPart> batches = new ArrayList<>();
    long elapsed;
    do {
      long t0 = nanoClock.getAsLong();
      double v = m.runRound();
      batches.add(new RoundPart(v, 1, (nanoClock.getAsLong() - t0) / 1e9));
      elapsed = nanoClock.getAsLong() - start;
    } while (elapsed < minNanos);
    RoundPart all = RoundPart.combine(m.unit(), batches);
    return new RoundPart(all.value(), all.batches(), elapsed / 1e9);
  }

  /**
   * Runs {@code m}'s fixed warm-up, then windows of at least the policy's window time until the
   * last {@value RoundPolicy#STABLE_WINDOWS} agree ({@link #steady}) or the policy's limit (counted
   * from the start of the fixed warm-up) has passed; at least {@value RoundPolicy#STABLE_WINDOWS}
   * windows even when the fixed warm-up alone took longer than the limit.
   */
  WarmUpReport warmUp(Measurement m, RoundPolicy policy) throws Exception {
    long start = nanoClock.getAsLong();
    m.warmUp();
    List<Double> windows = new ArrayList<>();
    boolean steady = false;
    while (!steady
        && (windows.size() < RoundPolicy.STABLE_WINDOWS
            || nanoClock.getAsLong() - start < policy.warmUpMax().toNanos())) {
      windows.add(runFor(m, policy.window().toNanos()).value());
      steady = steady(windows, policy.tolerance(), m.unit().higherIsBetter);
    }
    return new WarmUpReport((nanoClock.getAsLong() - start) / 1e9, windows, steady);
  }

  /**
   * Whether the last {@value RoundPolicy#STABLE_WINDOWS} values lie within {@code tolerance} of
   * their median ((max - min) / median <= tolerance) and are not still improving window after
   * window (a JIT that is still compiling shows as a steady climb, which may be smaller than the
   * tolerance per window).
   */
  static boolean steady(List<Double> values, double tolerance, boolean higherIsBetter) {
    int n = RoundPolicy.STABLE_WINDOWS;
    if (values.size() < n) {
      return false;
    }
    List<Double> last = values.subList(values.size() - n, values.size());
    Stats s = Stats.of(last.stream().mapToDouble(Double::doubleValue).toArray());
    boolean improving = true;
    for (int i = 1; i < n; i++) {
      double step = last.get(i) - last.get(i - 1);
      improving &= higherIsBetter ? step > 0 : step < 0;
    }
    return !improving && (s.max() - s.min()) <= tolerance * s.median();
  }
}
