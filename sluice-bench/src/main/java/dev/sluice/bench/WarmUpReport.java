package dev.sluice.bench;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a measurement's warm-up went ({@link SteadyRounds#warmUp}): how long it took, the value of
 * every window it timed after the measurement's fixed minimum, and whether the last windows agreed
 * (steady) or the warm-up stopped at its time limit.
 *
 * <p>Immutable; safe from any thread.
 *
 * @param seconds wall time of the whole warm-up, fixed minimum included
 * @param windows the value of each timed window, in order
 * @param steady whether the last windows agreed within the policy's tolerance
 */
record WarmUpReport(double seconds, List<Double> windows, boolean steady) {
  WarmUpReport {
    windows = List.copyOf(windows);
  }

  /** "steady after 4.2 s, 5 windows, last: 51.2, 50.3, 52.0 µs" (or "NOT steady ..."). */
  String describe(Measurement.Unit unit) {
    List<Double> last =
        windows.subList(Math.max(0, windows.size() - RoundPolicy.STABLE_WINDOWS), windows.size());
    return String.format(
        Locale.ROOT,
        "%s after %.1f s, %d windows%s",
        steady ? "steady" : "NOT steady",
        seconds,
        windows.size(),
        last.isEmpty()
            ? ""
            : ", last: "
                + last.stream()
                    .map(v -> InterleavedRunner.formatNumber(v, unit))
                    .collect(Collectors.joining(", "))
                + " "
                + unit.symbol);
  }
}
