package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * RoundSettling: a driver collects its garbage before a round, then waits until its processes use
 * less than {@link RoundSettling#QUIET_CORES} of a core over a window, at most {@link
 * RoundSettling#MAX}; checked against a fake clock and fake CPU readings that only the fake sleeps
 * advance.
 */
class RoundSettlingTest {
  /** A fake machine: each sleep advances the clock by its length and the CPU by a given load. */
  private static final class Fake {
    long now;
    long cpu;
    int collections;
    final List<Double> loads;
    final List<String> calls = new ArrayList<>();

    Fake(List<Double> loads) {
      this.loads = new ArrayList<>(loads);
    }

    RoundSettling settling() {
      return new RoundSettling(
          () -> {
            collections++;
            calls.add("collect");
          },
          () -> cpu,
          () -> now,
          d -> {
            calls.add("sleep");
            double load = loads.size() > 1 ? loads.removeFirst() : loads.getFirst();
            now += d.toNanos();
            cpu += (long) (load * d.toNanos());
          });
    }
  }

  @Test
  void collectsFirstThenReturnsAtTheFirstQuietWindow() throws Exception {
    Fake f = new Fake(List.of(1.5, 0.9, 0.05));
    RoundSettling.Report r = f.settling().settle();
    assertThat(r.quiet()).isTrue();
    assertThat(f.collections).isEqualTo(1);
    assertThat(f.calls).containsExactly("collect", "sleep", "sleep", "sleep");
    assertThat(r.took()).isEqualTo(RoundSettling.WINDOW.multipliedBy(3));
  }

  @Test
  void aLoadAtTheThresholdIsNotQuiet() throws Exception {
    Fake f = new Fake(List.of(RoundSettling.QUIET_CORES, RoundSettling.QUIET_CORES * 0.99));
    RoundSettling.Report r = f.settling().settle();
    assertThat(r.quiet()).isTrue();
    assertThat(r.took()).isEqualTo(RoundSettling.WINDOW.multipliedBy(2));
  }

  @Test
  void givesUpAfterTheLongestWaitAndSaysSo() throws Exception {
    Fake f = new Fake(List.of(1.0));
    RoundSettling.Report r = f.settling().settle();
    assertThat(r.quiet()).isFalse();
    assertThat(r.took()).isGreaterThanOrEqualTo(RoundSettling.MAX);
    assertThat(r.took()).isLessThan(RoundSettling.MAX.plus(RoundSettling.WINDOW));
  }
}
