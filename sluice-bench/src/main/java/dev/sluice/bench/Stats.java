package dev.sluice.bench;

import java.util.Arrays;

/** The rounds of one measurement, summarised: median, minimum and maximum. */
record Stats(double median, double min, double max, int rounds) {
  static Stats of(double[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("no rounds");
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    return new Stats(median, sorted[0], sorted[n - 1], n);
  }
}
