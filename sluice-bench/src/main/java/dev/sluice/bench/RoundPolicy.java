package dev.sluice.bench;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * How long a peer group's measurements run ({@link SteadyRounds}, {@link MirroredRunner}): each
 * round of a measurement is two parts of at least {@code part} each, and its warm-up, after the
 * measurement's own fixed minimum (e.g. 20,000 round trips), runs windows of at least {@code
 * window} until the last {@value #STABLE_WINDOWS} windows agree within {@code tolerance} of their
 * median and do not improve one after the other, or until {@code warmUpMax} has passed since its
 * start (then the warm-up is reported as not steady); it runs at least {@value #STABLE_WINDOWS}
 * windows in any case.
 *
 * <p>Immutable; safe from any thread.
 *
 * @param part the least time of one part (half a round) of a measurement
 * @param window the least time of one warm-up window
 * @param warmUpMax when a warm-up stops even if it has not become steady
 * @param tolerance how far (as a fraction of their median) the last windows may spread
 */
record RoundPolicy(Duration part, Duration window, Duration warmUpMax, double tolerance) {
  /** How many windows in a row must agree before a warm-up counts as steady. */
  static final int STABLE_WINDOWS = 3;

  RoundPolicy {
    if (part.isNegative() || part.isZero() || window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("part and window must be positive");
    }
    if (!(tolerance > 0)) {
      throw new IllegalArgumentException("tolerance must be positive, got " + tolerance);
    }
  }

  /** The options of {@code PeerMain measure} that carry this policy to a child JVM. */
  List<String> args() {
    return List.of(
        "--part-ms",
        Long.toString(part.toMillis()),
        "--warmup-window-ms",
        Long.toString(window.toMillis()),
        "--warmup-max-ms",
        Long.toString(warmUpMax.toMillis()),
        "--warmup-tolerance",
        Double.toString(tolerance));
  }

  /** "rounds of 2 parts of >= 0.75 s; warm-up until 3 windows of >= 0.5 s agree within 10%". */
  String describe() {
    return String.format(
        Locale.ROOT,
        "each round of a measurement is 2 parts of >= %.2f s run in mirrored order (ABBA);"
            + " each warm-up runs its fixed minimum, then windows of >= %.2f s until %d in a row"
            + " agree within %.0f%% of their median and stop improving (at most %.0f s)",
        part.toMillis() / 1e3,
        window.toMillis() / 1e3,
        STABLE_WINDOWS,
        tolerance * 100,
        warmUpMax.toMillis() / 1e3);
  }
}
