package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The data-path group's warm-up rule: per-item streams warm up with at least as many items as the
 * round trips warm up with, and never fewer than 2 rounds. The observability group's drivers run
 * with a fixed, pre-touched heap.
 */
class PeerGroupsTest {
  @Test
  void perItemStreamsWarmUpWithAtLeastTheRoundTripsWarmUpCount() {
    assertThat(PeerGroups.warmUpRounds(20_000, 2_500)).isEqualTo(8);
    assertThat(PeerGroups.warmUpRounds(20_000, 3_000) * 3_000).isGreaterThanOrEqualTo(20_000);
    assertThat(PeerGroups.warmUpRounds(20_000, 40_000)).isEqualTo(2);
  }

  @Test
  void observabilityDriversRunWithAFixedPreTouchedHeapExceptInAQuickRun() {
    List<String> full =
        PeerGroups.observabilityDriverOptions(
            BenchOptions.parse(new String[] {"--group", "observability"}));
    assertThat(full).hasSize(3).contains("-XX:+AlwaysPreTouch");
    String xms = full.get(0);
    String xmx = full.get(1);
    assertThat(xms).startsWith("-Xms");
    assertThat(xmx).isEqualTo("-Xmx" + xms.substring(4));
    long mib = Long.parseLong(xms.substring(4, xms.length() - 1));
    assertThat(mib).isBetween(512L, 2048L);
    assertThat(
            PeerGroups.observabilityDriverOptions(
                BenchOptions.parse(new String[] {"--quick", "--group", "observability"})))
        .isEmpty();
  }

  @Test
  void eachObservabilitySideIsTheMeanOfItsTwoDriversRoundByRound() {
    Stats early = Stats.of(new double[] {100, 80, 60});
    Stats late = Stats.of(new double[] {120, 100, 100});
    Stats side = PeerGroups.meanPerRound(early, late);
    assertThat(side.values()).containsExactly(110.0, 90.0, 80.0);
    assertThat(side.median()).isEqualTo(90.0);
  }

  @Test
  void theQuickDataPathGroupWarmsUpWith20000RoundTrips() {
    assertThat(BenchOptions.parse(new String[] {"--quick", "--group", "datapath"}).warmUpOps())
        .isGreaterThanOrEqualTo(20_000);
  }
}
