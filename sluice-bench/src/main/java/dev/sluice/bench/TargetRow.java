package dev.sluice.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * One target of an issue's table, judged round by round: Sluice's value in round {@code r} against
 * its peer's value in the same round {@code r} (the two ran one after the other, see {@link
 * InterleavedRunner}), or against an absolute number when there is no peer. The row is {@code MET}
 * only if every round meets the target: a user on a busy machine gets the worst round, so the
 * spread is part of the figure. The exception is a target smaller than the machine's own spread
 * between identical configurations ({@link Target#medianDropAtMost}), judged on the median of the
 * rounds, with the rounds that met it still counted.
 *
 * <p>Immutable; safe from any thread.
 *
 * @param figure what is compared, e.g. "sync task round trip"
 * @param sluice Sluice's value per round
 * @param peer the peer's value per round, or null for an absolute target
 * @param target what the ratio (or, without a peer, the value) must reach in every round
 */
record TargetRow(String figure, Series sluice, Series peer, Target target) {
  TargetRow {
    if (peer != null && peer.values().size() != sluice.values().size()) {
      throw new IllegalArgumentException(
          figure
              + ": "
              + sluice.values().size()
              + " rounds of "
              + sluice.label()
              + " but "
              + peer.values().size()
              + " of "
              + peer.label());
    }
    if (sluice.values().isEmpty()) {
      throw new IllegalArgumentException(figure + ": no rounds");
    }
  }

  /** The columns of a table of these rows, in the order of {@link #cells()}. */
  static final String[] HEADERS = {
    "figure", "Sluice per round", "peer per round", "ratio per round", "range", "target", "verdict"
  };

  /**
   * A labelled series of per-round values.
   *
   * @param label who produced them, e.g. "RSocket request-response (own JVMs)"
   * @param unit their unit
   * @param values one per round, in round order
   */
  record Series(String label, Measurement.Unit unit, List<Double> values) {
    Series {
      values = List.copyOf(values);
    }

    /** The series of a measurement's rounds. */
    static Series of(String label, Measurement.Unit unit, Stats stats) {
      return new Series(label, unit, stats.values());
    }

    String render() {
      return values.stream()
              .map(v -> InterleavedRunner.formatNumber(v, unit))
              .collect(Collectors.joining(", "))
          + " "
          + unit.symbol;
    }
  }

  /**
   * What every round must reach.
   *
   * @param atLeast whether the figure must be at least (else at most) {@code threshold}
   * @param threshold the bound, a ratio or, for an absolute target, a value
   * @param text how the target is printed
   */
  record Target(boolean atLeast, double threshold, String text, boolean byMedian) {
    Target(boolean atLeast, double threshold, String text) {
      this(atLeast, threshold, text, false);
    }

    /** The ratio Sluice / peer must be at most {@code r} (e.g. latencies). */
    static Target ratioAtMost(double r) {
      return new Target(false, r, String.format(Locale.ROOT, "<= %sx", trim(r)));
    }

    /** The ratio Sluice / peer must be at least {@code r} (e.g. throughputs). */
    static Target ratioAtLeast(double r) {
      return new Target(true, r, String.format(Locale.ROOT, ">= %sx", trim(r)));
    }

    /** The value itself must be at least {@code v}. */
    static Target valueAtLeast(double v, Measurement.Unit unit) {
      return new Target(true, v, ">= " + InterleavedRunner.format(v, unit));
    }

    /** Sluice (here: with the feature on) may be at most {@code fraction} below its peer (off). */
    static Target dropAtMost(double fraction) {
      return new Target(
          true,
          1 - fraction,
          String.format(
              Locale.ROOT, "drop <= %s%% (>= %sx)", trim(fraction * 100), trim(1 - fraction)));
    }

    /**
     * Like {@link #dropAtMost}, but judged on the median of the rounds' ratios instead of every
     * round: for a difference smaller than the spread between two identical configurations on this
     * machine (which the run shows in a control row), where a single round cannot resolve it. The
     * verdict still says in how many rounds the target was met.
     */
    static Target medianDropAtMost(double fraction) {
      Target t = dropAtMost(fraction);
      return new Target(t.atLeast(), t.threshold(), t.text() + ", median of rounds", true);
    }

    /**
     * Sluice (the feature on) may use at most {@code fraction} more than its peer (off), judged on
     * the median of the rounds like {@link #medianDropAtMost}: for a cost such as CPU per task.
     */
    static Target medianRiseAtMost(double fraction) {
      return new Target(
          false,
          1 + fraction,
          String.format(
              Locale.ROOT,
              "rise <= %s%% (<= %sx), median of rounds",
              trim(fraction * 100),
              trim(1 + fraction)),
          true);
    }

    boolean met(double x) {
      return atLeast ? x >= threshold : x <= threshold;
    }

    private static String trim(double d) {
      return d == Math.rint(d)
          ? Long.toString((long) d)
          : String.format(Locale.ROOT, "%.2f", d).replaceAll("0$", "");
    }
  }

  /** Per round: Sluice / peer, or Sluice's value when there is no peer. */
  List<Double> ratios() {
    List<Double> r = new ArrayList<>();
    for (int i = 0; i < sluice.values().size(); i++) {
      double s = sluice.values().get(i);
      r.add(peer == null ? s : s / peer.values().get(i));
    }
    return r;
  }

  /** The rounds whose ratio meets the target. */
  int roundsMet() {
    return (int) ratios().stream().filter(target::met).count();
  }

  /**
   * Whether every round meets the target, or for a target judged on the median ({@link
   * Target#byMedian}), whether the median ratio does.
   */
  boolean met() {
    if (target.byMedian()) {
      return target.met(medianRatio());
    }
    return roundsMet() == sluice.values().size();
  }

  /** The median of the rounds' ratios (or values, without a peer). */
  double medianRatio() {
    return Stats.of(ratios().stream().mapToDouble(Double::doubleValue).toArray()).median();
  }

  /**
   * "MET" when every round met the target, else "MISSED (met in K of N rounds)"; for a target
   * judged on the median, "MET (median; met in K of N rounds)" or "MISSED (median; ...)".
   */
  String verdict() {
    int n = sluice.values().size();
    if (target.byMedian()) {
      return String.format(
          Locale.ROOT,
          "%s (median; met in %d of %d rounds)",
          met() ? "MET" : "MISSED",
          roundsMet(),
          n);
    }
    return met()
        ? "MET"
        : String.format(Locale.ROOT, "MISSED (met in %d of %d rounds)", roundsMet(), n);
  }

  /** "0.52x-0.61x" (or the value range, without a peer), then the median in parentheses. */
  String range() {
    List<Double> r = ratios();
    Stats s = Stats.of(r.stream().mapToDouble(Double::doubleValue).toArray());
    if (peer == null) {
      return InterleavedRunner.formatNumber(s.min(), sluice.unit())
          + "-"
          + InterleavedRunner.format(s.max(), sluice.unit())
          + " (median "
          + InterleavedRunner.formatNumber(s.median(), sluice.unit())
          + ")";
    }
    return ratio(s.min()) + "-" + ratio(s.max()) + " (median " + ratio(s.median()) + ")";
  }

  /** The row's cells, under {@link #HEADERS}. */
  String[] cells() {
    return new String[] {
      figure,
      sluice.label() + ": " + sluice.render(),
      peer == null ? "-" : peer.label() + ": " + peer.render(),
      peer == null
          ? "-"
          : ratios().stream().map(TargetRow::ratio).collect(Collectors.joining(", ")),
      range(),
      target.text(),
      verdict()
    };
  }

  /** A table of {@code rows}. */
  static ResultTable table(List<TargetRow> rows) {
    ResultTable t = new ResultTable(HEADERS);
    for (TargetRow row : rows) {
      t.addRow(row.cells());
    }
    return t;
  }

  private static String ratio(double r) {
    return String.format(Locale.ROOT, "%.2fx", r);
  }
}
