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
 * @param cpuSeconds CPU time the host and its descendants used meanwhile ({@link ProcessTreeCpu}),
 *     or NaN if not measured; parts combine by summing it
 */
record RoundPart(double value, int batches, double seconds, double cpuSeconds) {
  RoundPart {
    if (batches < 1) {
      throw new IllegalArgumentException("a part runs at least one batch, got " + batches);
    }
  }

  /** A part whose CPU time was not measured. */
  RoundPart(double value, int batches, double seconds) {
    this(value, batches, seconds, Double.NaN);
  }

  /** This part with {@code cpuSeconds} of CPU time used while it ran. */
  RoundPart withCpu(double cpuSeconds) {
    return new RoundPart(value, batches, seconds, cpuSeconds);
  }

  /**
   * Microseconds of CPU per operation (per task, per item) of a rate measured in {@code unit}: the
   * CPU time over the operations, which are the rate times the part's time; NaN when the CPU time
   * was not measured or the unit is not a count of operations per second.
   */
  double cpuMicrosPerOp(Measurement.Unit unit) {
    boolean opsRate =
        unit == Measurement.Unit.OPS_PER_SECOND || unit == Measurement.Unit.ITEMS_PER_SECOND;
    if (!opsRate || Double.isNaN(cpuSeconds) || !(value * seconds > 0)) {
      return Double.NaN;
    }
    return cpuSeconds * 1e6 / (value * seconds);
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
    double cpu = 0;
    for (RoundPart p : parts) {
      batches += p.batches();
      weighted += unit.higherIsBetter ? p.batches() / p.value() : p.batches() * p.value();
      seconds += p.seconds();
      cpu += p.cpuSeconds();
    }
    double value = unit.higherIsBetter ? batches / weighted : weighted / batches;
    return new RoundPart(value, batches, seconds, cpu);
  }
}
