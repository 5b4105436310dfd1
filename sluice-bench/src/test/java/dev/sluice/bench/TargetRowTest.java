package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How a target row is judged: round by round, and met only if every round meets it. */
class TargetRowTest {
  private static TargetRow.Series series(String label, Measurement.Unit unit, double... values) {
    return TargetRow.Series.of(label, unit, Stats.of(values));
  }

  @Test
  void statsKeepTheRoundsInTheOrderTheyRan() {
    assertThat(Stats.of(new double[] {3, 1, 2}).values()).containsExactly(3.0, 1.0, 2.0);
  }

  @Test
  void aLatencyRatioIsSluiceOverThePeerOfTheSameRoundAndOneBadRoundMissesTheTarget() {
    TargetRow row =
        new TargetRow(
            "sync task round trip",
            series("Sluice", Measurement.Unit.MICROS_PER_OP, 60, 90, 45),
            series("RSocket", Measurement.Unit.MICROS_PER_OP, 20, 20, 20),
            TargetRow.Target.ratioAtMost(3));
    assertThat(row.ratios()).containsExactly(3.0, 4.5, 2.25);
    assertThat(row.roundsMet()).isEqualTo(2);
    assertThat(row.met()).isFalse();
    assertThat(row.verdict()).isEqualTo("MISSED (met in 2 of 3 rounds)");
    assertThat(row.range()).isEqualTo("2.25x-4.50x (median 3.00x)");
    assertThat(row.cells())
        .containsExactly(
            "sync task round trip",
            "Sluice: 60.0, 90.0, 45.0 µs",
            "RSocket: 20.0, 20.0, 20.0 µs",
            "3.00x, 4.50x, 2.25x",
            "2.25x-4.50x (median 3.00x)",
            "<= 3x",
            "MISSED (met in 2 of 3 rounds)");
  }

  @Test
  void aThroughputTargetIsMetWhenEveryRoundReachesIt() {
    TargetRow row =
        new TargetRow(
            "streaming, backpressure 16",
            series("Sluice", Measurement.Unit.ITEMS_PER_SECOND, 300_000, 500_000),
            series("Sluice backpressure off", Measurement.Unit.ITEMS_PER_SECOND, 600_000, 700_000),
            TargetRow.Target.ratioAtLeast(0.5));
    assertThat(row.verdict()).isEqualTo("MET");
    assertThat(row.target().text()).isEqualTo(">= 0.5x");
    assertThat(row.range()).isEqualTo("0.50x-0.71x (median 0.61x)");
  }

  @Test
  void anAbsoluteTargetJudgesTheValuesThemselves() {
    TargetRow row =
        new TargetRow(
            "async normal tasks, one driver",
            series("Sluice", Measurement.Unit.OPS_PER_SECOND, 41_000, 39_999),
            null,
            TargetRow.Target.valueAtLeast(40_000, Measurement.Unit.OPS_PER_SECOND));
    assertThat(row.verdict()).isEqualTo("MISSED (met in 1 of 2 rounds)");
    assertThat(row.target().text()).isEqualTo(">= 40,000 tasks/s");
    assertThat(row.range()).isEqualTo("39,999-41,000 tasks/s (median 40,500)");
    assertThat(row.cells()[2]).isEqualTo("-");
  }

  @Test
  void aDropOfAtMostFivePercentNeedsOnOverOffOfAtLeast095InEveryRound() {
    TargetRow.Target target = TargetRow.Target.dropAtMost(0.05);
    assertThat(target.text()).isEqualTo("drop <= 5% (>= 0.95x)");
    TargetRow met =
        new TargetRow(
            "async task throughput",
            series("on", Measurement.Unit.OPS_PER_SECOND, 96, 95),
            series("off", Measurement.Unit.OPS_PER_SECOND, 100, 100),
            target);
    assertThat(met.verdict()).isEqualTo("MET");
    TargetRow missed =
        new TargetRow(
            "async task throughput",
            series("on", Measurement.Unit.OPS_PER_SECOND, 96, 94),
            series("off", Measurement.Unit.OPS_PER_SECOND, 100, 100),
            target);
    assertThat(missed.verdict()).isEqualTo("MISSED (met in 1 of 2 rounds)");
  }

  @Test
  void aDropJudgedOnTheMedianIsMetByTheMedianRatioAndStillCountsTheRounds() {
    TargetRow.Target target = TargetRow.Target.medianDropAtMost(0.05);
    assertThat(target.text()).isEqualTo("drop <= 5% (>= 0.95x), median of rounds");
    TargetRow met =
        new TargetRow(
            "async task throughput",
            series("on", Measurement.Unit.OPS_PER_SECOND, 90, 97, 99),
            series("off", Measurement.Unit.OPS_PER_SECOND, 100, 100, 100),
            target);
    assertThat(met.verdict()).isEqualTo("MET (median; met in 2 of 3 rounds)");
    assertThat(met.met()).isTrue();
    TargetRow missed =
        new TargetRow(
            "async task throughput",
            series("on", Measurement.Unit.OPS_PER_SECOND, 90, 94, 99),
            series("off", Measurement.Unit.OPS_PER_SECOND, 100, 100, 100),
            target);
    assertThat(missed.medianRatio()).isEqualTo(0.94);
    assertThat(missed.verdict()).isEqualTo("MISSED (median; met in 1 of 3 rounds)");
    assertThat(missed.met()).isFalse();
  }

  @Test
  void seriesOfDifferentRoundCountsCannotBePaired() {
    assertThatThrownBy(
            () ->
                new TargetRow(
                    "x",
                    series("Sluice", Measurement.Unit.MICROS_PER_OP, 1, 2),
                    series("peer", Measurement.Unit.MICROS_PER_OP, 1),
                    TargetRow.Target.ratioAtMost(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2 rounds of Sluice but 1 of peer");
  }

  @Test
  void aTableHasOneLinePerRowUnderTheHeaders() {
    TargetRow row =
        new TargetRow(
            "f",
            series("Sluice", Measurement.Unit.GB_PER_SECOND, 1.5),
            series("memcpy", Measurement.Unit.GB_PER_SECOND, 5),
            TargetRow.Target.ratioAtLeast(0.25));
    String text = TargetRow.table(List.of(row)).render();
    assertThat(text.lines()).hasSize(3);
    assertThat(text).contains("| verdict").contains("0.30x").contains("| MET");
  }
}
