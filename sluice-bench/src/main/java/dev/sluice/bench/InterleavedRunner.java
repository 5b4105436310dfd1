package dev.sluice.bench;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Warms every measurement up, then runs round 1 of each, round 2 of each, and so on, starting each
 * round one measurement further along. Interleaving spreads a noisy neighbour or a GC pause over
 * all measurements instead of skewing one, which keeps their ratios meaningful on a small shared
 * machine. Prints a progress line per warm-up and per round.
 */
final class InterleavedRunner {
  private final PrintStream out;

  InterleavedRunner(PrintStream out) {
    this.out = out;
  }

  /** Runs {@code rounds} rounds of each measurement; the result keeps the input order. */
  Map<Measurement, Stats> run(List<Measurement> measurements, int rounds) throws Exception {
    int n = measurements.size();
    for (int k = 0; k < n; k++) {
      Measurement m = measurements.get(k);
      out.printf("[warm-up %d/%d] %s%n", k + 1, n, m.name());
      long t0 = System.nanoTime();
      m.warmUp();
      out.printf("               done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
    double[][] values = new double[n][rounds];
    for (int r = 0; r < rounds; r++) {
      for (int k = 0; k < n; k++) {
        int idx = (r + k) % n;
        Measurement m = measurements.get(idx);
        double v = m.runRound();
        values[idx][r] = v;
        out.printf("[round %d/%d] %-40s %s%n", r + 1, rounds, m.name(), format(v, m.unit()));
      }
    }
    Map<Measurement, Stats> result = new LinkedHashMap<>();
    for (int k = 0; k < n; k++) {
      result.put(measurements.get(k), Stats.of(values[k]));
    }
    return result;
  }

  /** {@code v} with its unit: "63.2 µs" or "21,450 tasks/s". */
  static String format(double v, Measurement.Unit unit) {
    return formatNumber(v, unit) + " " + unit.symbol;
  }

  /** {@code v} without its unit, as precise as {@link #format} gives it: "63.2" or "21,450". */
  static String formatNumber(double v, Measurement.Unit unit) {
    return switch (unit) {
      case MICROS_PER_OP, MICROS_PER_ITEM -> String.format(Locale.ROOT, "%.1f", v);
      case GB_PER_SECOND -> String.format(Locale.ROOT, "%.2f", v);
      default -> String.format(Locale.ROOT, "%,.0f", v);
    };
  }
}
