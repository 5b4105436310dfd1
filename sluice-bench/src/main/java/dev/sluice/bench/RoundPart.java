package dev.sluice.bench;

import java.util.List;

/**
 * One timed stretch of a measurement: its value in the measurement's unit, how many batches (calls
 * of the measurement's fixed-size {@link Measurement#runRound()}) it ran, and how long they took.
 * Parts of the same measurement combine exactly ({@link #combine}): a rate (higher is better:
 * tasks/s, items/s, GB/s) as all the work over all the time, a time per operation (µs) as all the
 * time over all the operations, each batch weighted by its (fixed) work.
 *
 * <p>Immutable; safe from any thread.
 *
 * @param value the part's figure, in its measurement's unit
 * @param batches how many batches of the measurement's fixed work it ran, at least 1
 * @param seconds wall time of the part, as the host of the measurement timed it
 */
record RoundPart(double value, int batches, double seconds) {
  RoundPart {
    if (batches < 1) {
      throw new IllegalArgumentException("a part runs at least one batch, got " + batches);
    }
  }

  /**
   * The parts as one: for a rate, the sum of batches over the sum of batches per value (a
   * batch-weighted harmonic mean: total work over total time); for a time per operation (or any
   * lower-is-better figure), the batch-weighted mean (total time over total operations).
   */
  static RoundPart combine(Measurement.Unit unit, List<RoundPart> parts) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("no parts to combine");
    }
    int batches = 0;
    double weighted = 0;
    double seconds = 0;
    for (RoundPart p : parts) {
      batches += p.batches();
      weighted += unit.higherIsBetter ? p.batches() / p.value() : p.batches() * p.value();
      seconds += p.seconds();
    }
    double value = unit.higherIsBetter ? batches / weighted : weighted / batches;
    return new RoundPart(value, batches, seconds);
  }
}
