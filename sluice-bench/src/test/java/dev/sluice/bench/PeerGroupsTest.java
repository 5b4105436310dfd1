package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The data-path group's warm-up rule: per-item streams warm up with at least as many items as the
 * round trips warm up with, and never fewer than 2 rounds.
 */
class PeerGroupsTest {
  @Test
  void perItemStreamsWarmUpWithAtLeastTheRoundTripsWarmUpCount() {
    assertThat(PeerGroups.warmUpRounds(20_000, 2_500)).isEqualTo(8);
    assertThat(PeerGroups.warmUpRounds(20_000, 3_000) * 3_000).isGreaterThanOrEqualTo(20_000);
    assertThat(PeerGroups.warmUpRounds(20_000, 40_000)).isEqualTo(2);
  }

  @Test
  void theQuickDataPathGroupWarmsUpWith20000RoundTrips() {
    assertThat(BenchOptions.parse(new String[] {"--quick", "--group", "datapath"}).warmUpOps())
        .isGreaterThanOrEqualTo(20_000);
  }
}
