package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A peer runs in a child JVM of its own, answers the bench's commands, and is gone after close. */
class PeerProcessTest {
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

  @Test
  void aPeerRunsItsRoundsInAChildJvmAndTheChildExitsOnClose() throws Exception {
    ProcessHandle child;
    try (PeerProcess p =
        PeerProcess.start(
            "memcpy test JVM",
            QUIET,
            List.of(
                "measure",
                PeerProtocol.Spec.of("memcpy", "size", 1 << 20, "copies", 2).render()))) {
      child = p.handle();
      assertThat(child.pid()).isNotEqualTo(ProcessHandle.current().pid());
      List<TimedMeasurement> ms = p.measurements(" (own JVM)");
      assertThat(ms).hasSize(1);
      Measurement m = ms.getFirst();
      assertThat(m.name()).isEqualTo("memcpy 1 MiB (System.arraycopy) (own JVM)");
      assertThat(m.unit()).isEqualTo(Measurement.Unit.GB_PER_SECOND);
      m.warmUp();
      assertThat(m.runRound()).isPositive();
    }
    assertThat(child.onExit().get(1, TimeUnit.MINUTES).isAlive()).isFalse();
  }

  @Test
  void aChildAskedToSettleBeforeEachRoundRunsItsRounds() throws Exception {
    try (PeerProcess p =
        PeerProcess.start(
            "settling memcpy test JVM",
            QUIET,
            List.of(
                "measure",
                PeerMain.SETTLE_BEFORE_ROUND,
                PeerProtocol.Spec.of("memcpy", "size", 1 << 16, "copies", 1).render()))) {
      Measurement m = p.measurements("").getFirst();
      m.warmUp();
      assertThat(m.runRound()).isPositive();
      assertThat(m.runRound()).isPositive();
    }
  }

  @Test
  void jvmOptionsGivenForAPeerComeBeforeItsMainClassAndArguments() {
    List<String> command = PeerProcess.command(List.of("-Xmx300m", "-Dpeer=1"), List.of("measure"));
    int xmx = command.indexOf("-Xmx300m");
    assertThat(xmx).isPositive();
    assertThat(command.get(xmx + 1)).isEqualTo("-Dpeer=1");
    assertThat(command.indexOf(PeerMain.class.getName())).isGreaterThan(xmx + 1);
    assertThat(command.getLast()).isEqualTo("measure");
  }

  @Test
  void aChildGivenARoundPolicyWarmsUpUntilSteadyAndRunsBatchesForAPartsTime() throws Exception {
    RoundPolicy policy =
        new RoundPolicy(Duration.ofMillis(100), Duration.ofMillis(20), Duration.ofSeconds(30), 0.5);
    List<String> args = new ArrayList<>(List.of("measure"));
    args.addAll(policy.args());
    args.add(PeerProtocol.Spec.of("memcpy", "size", 1 << 16, "copies", 1).render());
    try (PeerProcess p = PeerProcess.start("timed memcpy test JVM", QUIET, args)) {
      TimedMeasurement m = p.measurements("").getFirst();
      WarmUpReport warmUp = m.warmUpUntilSteady();
      assertThat(warmUp.windows()).hasSizeGreaterThanOrEqualTo(RoundPolicy.STABLE_WINDOWS);
      assertThat(warmUp.seconds()).isPositive();
      RoundPart part = m.runPart();
      // One batch copies 64 KiB, a few microseconds: a part of 100 ms runs many of them.
      assertThat(part.batches()).isGreaterThan(1);
      assertThat(part.seconds()).isGreaterThanOrEqualTo(0.1);
      assertThat(part.value()).isPositive();
    }
  }

  @Test
  void aChildThatCannotStartFailsTheBenchNamingItsLabelAndLeavesNoProcess() {
    assertThatThrownBy(
            () -> PeerProcess.start("bad JVM", QUIET, List.of("measure", "no-such-measurement")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("bad JVM")
        .hasMessageContaining("unknown measurement 'no-such-measurement'");
    assertThat(
            ProcessHandle.current()
                .children()
                .filter(c -> c.info().commandLine().orElse("").contains("PeerMain"))
                .filter(ProcessHandle::isAlive))
        .isEmpty();
  }
}
