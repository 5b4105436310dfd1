package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import java.time.Duration;
import java.util.List;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * A peer group's round parts are timed, not counted, and its warm-ups run until the rate is steady:
 * checked against a fake clock that only the fake measurement's batches advance.
 */
class SteadyRoundsTest {
  private static final long MS = 1_000_000;

  /** A fake: batch {@code i} takes {@code batchMillis} of fake time and yields {@code value(i)}. */
  private static final class Fake implements Measurement {
    final long[] clock = {0};
    final Unit unit;
    final long batchMillis;
    final IntToDoubleFunction value;
    int batches;
    int fixedWarmUps;
    long fixedWarmUpMillis;

    Fake(Unit unit, long batchMillis, IntToDoubleFunction value) {
      this.unit = unit;
      this.batchMillis = batchMillis;
      this.value = value;
    }

    @Override
    public String name() {
      return "fake";
    }

    @Override
    public Unit unit() {
      return unit;
    }

    @Override
    public void warmUp() {
      fixedWarmUps++;
      clock[0] += fixedWarmUpMillis * MS;
    }

    @Override
    public double runRound() {
      clock[0] += batchMillis * MS;
      return value.applyAsDouble(batches++);
    }

    @Override
    public String workPerRound() {
      return "1 batch";
    }
  }

  private static RoundPolicy policy(long windowMillis, long maxMillis) {
    return new RoundPolicy(
        Duration.ofMillis(750), Duration.ofMillis(windowMillis), Duration.ofMillis(maxMillis), 0.1);
  }

  @Test
  void aPartRunsWholeBatchesUntilItsTimeHasPassedAndAtLeastOne() throws Exception {
    Fake fake = new Fake(Measurement.Unit.MICROS_PER_OP, 300, i -> 10);
    SteadyRounds rounds = new SteadyRounds(() -> fake.clock[0]);
    RoundPart part = rounds.runFor(fake, 750 * MS);
    assertThat(part.batches()).isEqualTo(3);
    assertThat(part.seconds()).isEqualTo(0.9);
    Fake slow = new Fake(Measurement.Unit.MICROS_PER_OP, 2_000, i -> 10);
    assertThat(new SteadyRounds(() -> slow.clock[0]).runFor(slow, 750 * MS).batches()).isEqualTo(1);
  }

  @Test
  void partsCombineAsAllTheWorkOverAllTheTime() {
    // A rate: two equal batches at 100/s and 300/s took 1/100 and 1/300 of the work's time each,
    // so together 2 / (1/100 + 1/300) = 150/s, not the mean 200/s.
    RoundPart rate =
        RoundPart.combine(
            Measurement.Unit.ITEMS_PER_SECOND,
            List.of(new RoundPart(100, 1, 1), new RoundPart(300, 1, 0.33)));
    assertThat(rate.value()).isCloseTo(150, offset(1e-9));
    assertThat(rate.batches()).isEqualTo(2);
    // A time per operation: 1 batch at 10 µs and 3 at 20 µs average to 17.5 µs per operation.
    RoundPart time =
        RoundPart.combine(
            Measurement.Unit.MICROS_PER_OP,
            List.of(new RoundPart(10, 1, 1), new RoundPart(20, 3, 1)));
    assertThat(time.value()).isEqualTo(17.5);
    assertThat(time.seconds()).isEqualTo(2);
    assertThatThrownBy(() -> new RoundPart(1, 0, 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aWarmUpRunsTheFixedMinimumThenWindowsUntilThreeAgreeWithinTheTolerance() throws Exception {
    // Slow at first (JIT, page faults), then steady at about 20 µs with a little noise.
    double[] ramp = {100, 50, 30, 22, 20, 19, 20, 20};
    Fake fake = new Fake(Measurement.Unit.MICROS_PER_OP, 100, i -> ramp[Math.min(i, 7)]);
    WarmUpReport report = new SteadyRounds(() -> fake.clock[0]).warmUp(fake, policy(100, 60_000));
    assertThat(fake.fixedWarmUps).isEqualTo(1);
    assertThat(report.steady()).isTrue();
    // 22, 20, 19 still spread 15% of their median; 20, 19, 20 agree within 10%.
    assertThat(report.windows()).containsExactly(100.0, 50.0, 30.0, 22.0, 20.0, 19.0, 20.0);
    assertThat(report.describe(Measurement.Unit.MICROS_PER_OP))
        .isEqualTo("steady after 0.7 s, 7 windows, last: 20.0, 19.0, 20.0 µs");
  }

  @Test
  void aWarmUpStillImprovingWindowAfterWindowIsNotSteadyEvenWithinTheTolerance() throws Exception {
    // Each window 2.5% faster than the last: within 10%, but the JIT is not done.
    double[] climb = {20, 19.5, 19, 18.5, 18.5};
    Fake fake = new Fake(Measurement.Unit.MICROS_PER_OP, 100, i -> climb[Math.min(i, 4)]);
    WarmUpReport report = new SteadyRounds(() -> fake.clock[0]).warmUp(fake, policy(100, 60_000));
    assertThat(report.steady()).isTrue();
    assertThat(report.windows()).containsExactly(20.0, 19.5, 19.0, 18.5, 18.5);
    assertThat(SteadyRounds.steady(List.of(100.0, 103.0, 106.0), 0.1, true)).isFalse();
    assertThat(SteadyRounds.steady(List.of(106.0, 103.0, 100.0), 0.1, false)).isFalse();
    assertThat(SteadyRounds.steady(List.of(106.0, 103.0, 100.0), 0.1, true)).isTrue();
  }

  @Test
  void aWarmUpThatNeverSettlesStopsAtItsLimitAndSaysSo() throws Exception {
    Fake fake = new Fake(Measurement.Unit.OPS_PER_SECOND, 100, i -> i % 2 == 0 ? 50 : 100);
    WarmUpReport report = new SteadyRounds(() -> fake.clock[0]).warmUp(fake, policy(100, 1_000));
    assertThat(report.steady()).isFalse();
    assertThat(report.windows()).hasSize(10);
    assertThat(report.describe(Measurement.Unit.OPS_PER_SECOND)).startsWith("NOT steady");
  }

  @Test
  void aFixedWarmUpLongerThanTheLimitIsStillFollowedByEnoughWindowsToJudgeIt() throws Exception {
    Fake fake = new Fake(Measurement.Unit.MICROS_PER_OP, 100, i -> 10 + i);
    fake.fixedWarmUpMillis = 5_000;
    WarmUpReport report = new SteadyRounds(() -> fake.clock[0]).warmUp(fake, policy(100, 1_000));
    assertThat(report.windows()).containsExactly(10.0, 11.0, 12.0);
    assertThat(report.steady()).isFalse();
    assertThat(report.seconds()).isEqualTo(5.3);
  }

  @Test
  void thePolicyReachesAChildAsOptionsOfPeerMain() {
    BenchOptions full = BenchOptions.parse(new String[] {"--group", "observability"});
    assertThat(full.roundPolicy().args())
        .containsExactly(
            "--part-ms",
            "750",
            "--warmup-window-ms",
            "500",
            "--warmup-max-ms",
            "8000",
            "--warmup-tolerance",
            "0.1");
    assertThat(full.observabilityPolicy().args())
        .containsExactly(
            "--part-ms",
            "2500",
            "--warmup-window-ms",
            "2000",
            "--warmup-max-ms",
            "30000",
            "--warmup-tolerance",
            "0.1");
    BenchOptions quick =
        BenchOptions.parse(new String[] {"--quick", "--group", "datapath", "--round-ms", "600"});
    assertThat(quick.observabilityPolicy()).isEqualTo(quick.roundPolicy());
    assertThat(quick.roundPolicy().part()).isEqualTo(Duration.ofMillis(300));
    assertThat(quick.rsocketRequest1Items()).isEqualTo(quick.bp1Items());
    assertThat(quick.rsocketStreamItems()).isEqualTo(quick.streamItems());
  }
}
