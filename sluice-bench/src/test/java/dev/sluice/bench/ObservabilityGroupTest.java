package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The observability group's fairness rules: drivers run with a fixed, pre-touched heap; the two
 * runs' start orders give each side every start position once; each side's round value is the mean
 * of its two drivers; the two runs weigh the same; drivers settle before each part and differ only
 * in observability.
 */
class ObservabilityGroupTest {
  @Test
  void driversRunWithAFixedPreTouchedHeapExceptInAQuickRun() {
    List<String> full =
        ObservabilityGroup.driverOptions(
            BenchOptions.parse(new String[] {"--group", "observability"}));
    assertThat(full).hasSize(3).contains("-XX:+AlwaysPreTouch");
    String xms = full.get(0);
    String xmx = full.get(1);
    assertThat(xms).startsWith("-Xms");
    assertThat(xmx).isEqualTo("-Xmx" + xms.substring(4));
    long mib = Long.parseLong(xms.substring(4, xms.length() - 1));
    assertThat(mib).isBetween(512L, 2048L);
    assertThat(
            ObservabilityGroup.driverOptions(
                BenchOptions.parse(new String[] {"--quick", "--group", "observability"})))
        .isEmpty();
  }

  @Test
  void driversSettleBeforeEachPartAndDifferOnlyInObservability() {
    BenchOptions o = BenchOptions.parse(new String[] {"--group", "observability"});
    List<String> on = ObservabilityGroup.driverArgs(o, true);
    List<String> off = ObservabilityGroup.driverArgs(o, false);
    assertThat(on).contains(PeerMain.SETTLE_BEFORE_ROUND);
    assertThat(on.get(on.indexOf("--observability") + 1)).isEqualTo("on");
    assertThat(off.get(off.indexOf("--observability") + 1)).isEqualTo("off");
    List<String> offAsOn = new ArrayList<>(off);
    offAsOn.set(off.indexOf("--observability") + 1, "on");
    assertThat(offAsOn).isEqualTo(on);
  }

  @Test
  void aRateOfRecordedAttemptsGoesToTheOnDriversOnly() {
    BenchOptions o =
        BenchOptions.parse(
            new String[] {"--group", "observability", "--task-events-per-second", "0"});
    List<String> on = ObservabilityGroup.driverArgs(o, true);
    assertThat(on.get(on.indexOf("--task-events-per-second") + 1)).isEqualTo("0");
    assertThat(ObservabilityGroup.driverArgs(o, false)).doesNotContain("--task-events-per-second");
    assertThat(
            ObservabilityGroup.driverArgs(
                BenchOptions.parse(new String[] {"--group", "observability"}), true))
        .doesNotContain("--task-events-per-second");
    assertThatThrownBy(
            () ->
                BenchOptions.parse(
                    new String[] {"--group", "observability", "--task-events-per-second", "-1"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be >= 0");
  }

  @Test
  void eachSideIsStartedAtEveryPositionOnceAcrossTheTwoRuns() {
    List<List<Boolean>> orders = ObservabilityGroup.START_ORDERS;
    assertThat(orders).hasSize(2);
    for (int position = 0; position < 4; position++) {
      assertThat(List.of(orders.get(0).get(position), orders.get(1).get(position)))
          .as("position %d", position)
          .containsExactlyInAnyOrder(true, false);
    }
    for (List<Boolean> order : orders) {
      assertThat(Collections.frequency(order, true)).isEqualTo(2);
    }
  }

  @Test
  void eachSideIsTheMeanOfItsTwoDriversRoundByRound() {
    Stats early = Stats.of(new double[] {100, 80, 60});
    Stats late = Stats.of(new double[] {120, 100, 100});
    assertThat(ObservabilityGroup.meanPerRound(early, late)).containsExactly(110.0, 90.0, 80.0);
  }

  @Test
  void bothRunsHaveHalfTheRoundsRoundedUp() {
    assertThat(ObservabilityGroup.roundsPerRun(7)).isEqualTo(4);
    assertThat(ObservabilityGroup.roundsPerRun(8)).isEqualTo(4);
    assertThat(ObservabilityGroup.roundsPerRun(1)).isEqualTo(1);
  }
}
