package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The measurements a target compares run in mirrored order (A B B A) in every round, so a machine
 * that slows down steadily during a round slows both sides of a ratio alike.
 */
class MirroredRunnerTest {
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

  /** A fake measurement: its parts come from {@code part}, and each logs its name. */
  private static final class Fake implements TimedMeasurement {
    final String name;
    final Unit unit;
    final List<String> log;
    final Supplier<RoundPart> part;
    int warmUps;

    Fake(String name, Unit unit, List<String> log, Supplier<RoundPart> part) {
      this.name = name;
      this.unit = unit;
      this.log = log;
      this.part = part;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Unit unit() {
      return unit;
    }

    @Override
    public void warmUp() {}

    @Override
    public double runRound() {
      throw new AssertionError("a group runs parts, not rounds");
    }

    @Override
    public WarmUpReport warmUpUntilSteady() {
      warmUps++;
      return new WarmUpReport(1, List.of(10.0, 10.0, 10.0), true);
    }

    @Override
    public RoundPart runPart() {
      log.add(name);
      return part.get();
    }

    @Override
    public String workPerRound() {
      return "fake";
    }
  }

  /** A fake whose part value is the time the part ran at: a machine drifting linearly. */
  private static Fake drifting(String name, List<String> log, int[] clock) {
    return new Fake(
        name, Measurement.Unit.MICROS_PER_OP, log, () -> new RoundPart(100 + clock[0]++, 1, 1));
  }

  @Test
  void eachBlockRunsForwardThenBackwardAndTheBlocksAndMembersTakeTurnsGoingFirst() {
    List<String> log = new ArrayList<>();
    int[] clock = {0};
    Fake a = drifting("A", log, clock);
    Fake b = drifting("B", log, clock);
    Fake c = drifting("C", log, clock);
    List<List<TimedMeasurement>> blocks = List.of(List.of(a, b), List.of(c));
    assertThat(MirroredRunner.order(blocks, 0)).containsExactly(a, b, b, a, c, c);
    assertThat(MirroredRunner.order(blocks, 1)).containsExactly(c, c, b, a, a, b);
    assertThat(MirroredRunner.order(blocks, 2)).containsExactly(a, b, b, a, c, c);
  }

  @Test
  void aLinearDriftCancelsOutOfEveryRoundsRatioOfTwoEqualMeasurements() throws Exception {
    List<String> log = new ArrayList<>();
    int[] clock = {0};
    Fake on = drifting("on", log, clock);
    Fake off = drifting("off", log, clock);
    Fake third = drifting("third", log, clock);
    MirroredRunner.Result result =
        new MirroredRunner(QUIET).run(List.of(List.of(on, off, third)), 4);
    assertThat(on.warmUps).isEqualTo(1);
    assertThat(result.warmUps()).containsKeys(on, off, third);
    Map<Measurement, Stats> stats = result.stats();
    assertThat(stats.keySet()).containsExactly(on, off, third);
    TargetRow row =
        new TargetRow(
            "equal code",
            TargetRow.Series.of("on", on.unit(), stats.get(on)),
            TargetRow.Series.of("off", off.unit(), stats.get(off)),
            TargetRow.Target.dropAtMost(0.05));
    // Every part ran at a later time than the one before, yet each round's ratio is exactly 1.
    assertThat(row.ratios()).containsExactly(1.0, 1.0, 1.0, 1.0);
    assertThat(stats.get(third).values()).containsExactly(102.5, 108.5, 114.5, 120.5);
    assertThat(log).hasSize(4 * 6);
  }

  /** A fake rate whose parts each run {@code ops} operations a second for 1 s with some CPU. */
  private static Fake rate(String name, double ops, double cpuSeconds) {
    return new Fake(
        name,
        Measurement.Unit.OPS_PER_SECOND,
        new ArrayList<>(),
        () -> new RoundPart(ops, 1, 1, cpuSeconds));
  }

  @Test
  void aRoundsCpuPerOperationIsItsPartsCpuTimeOverTheirOperationsAndOnlyWhereMeasured()
      throws Exception {
    Fake measured = rate("measured", 50_000, 1.0);
    Fake unmeasured = rate("unmeasured", 50_000, Double.NaN);
    MirroredRunner.Result result =
        new MirroredRunner(QUIET).run(List.of(List.of(measured, unmeasured)), 3);
    // Two parts of 50,000 ops in 1 s each, with 1 s of CPU each: 20 µs of CPU per operation.
    assertThat(result.cpuPerOp().get(measured).values())
        .hasSize(3)
        .allSatisfy(v -> assertThat(v).isCloseTo(20.0, within(1e-9)));
    assertThat(result.cpuPerOp()).doesNotContainKey(unmeasured);
    assertThat(new RoundPart(50_000, 1, 1, 1.0).cpuMicrosPerOp(Measurement.Unit.MICROS_PER_OP))
        .isNaN();
  }
}
