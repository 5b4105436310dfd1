package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A producer paused by backpressure lends its CPU (DESIGN "Nested tasks"), so a consumer that
 * reads more backpressured streams than the node has CPUs, round-robin, never waits for a stream
 * that cannot start. Two CPUs, more streams than CPUs, each at most 2 items ahead.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class PausedProducerTest {
  private static final int CPUS = 2;
  private static final int ITEMS = 6;

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(CPUS).maxExtraWorkers(4).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  static Iterator<Integer> count(int stream, int n) {
    return IntStream.range(0, n).map(i -> stream * 1000 + i).iterator();
  }

  @Test
  void oneThreadReadingMoreBackpressuredStreamsThanCpusRoundRobinGetsEveryItem() {
    int streams = CPUS + 3;
    List<ObjectRefGenerator<Integer>> gens = new ArrayList<>();
    for (int s = 0; s < streams; s++) {
      gens.add(Sluice.generator(PausedProducerTest::count, s, ITEMS)
          .options(TaskOptions.builder().generatorBackpressureNumObjects(2).build()).remote());
    }
    List<List<Integer>> got = new ArrayList<>();
    gens.forEach(g -> got.add(new ArrayList<>()));
    for (int i = 0; i < ITEMS; i++) {
      for (int s = 0; s < streams; s++) {
        int stream = s;
        ObjectRef<Integer> item = gens.get(s).next(Duration.ofSeconds(60))
            .orElseThrow(() -> new AssertionError("stream " + stream + " gave no item within 60 s"));
        got.get(s).add(item.get());
      }
    }
    for (int s = 0; s < streams; s++) {
      int base = s * 1000;
      assertThat(got.get(s)).containsExactlyElementsOf(
          IntStream.range(0, ITEMS).map(i -> base + i).boxed().toList());
      assertThat(gens.get(s).hasNext()).as("stream %d ends after its items", s).isFalse();
      gens.get(s).close();
    }
  }
}
