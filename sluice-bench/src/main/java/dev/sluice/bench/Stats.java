package dev.sluice.bench;

import java.util.Arrays;
import java.util.List;

/**
 * The rounds of one measurement, summarised: median, minimum and maximum, plus every round's value
 * in the order the rounds ran (so that two measurements interleaved round by round can be compared
 * round by round, see {@link TargetRow}).
 */
record Stats(double median, double min, double max, int rounds, List<Double> values) {
  Stats {
    values = List.copyOf(values);
  }

  /** Summarises {@code values}, given in round order. */
  static Stats of(double[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("no rounds");
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    return new Stats(median, sorted[0], sorted[n - 1], n, Arrays.stream(values).boxed().toList());
  }
}
