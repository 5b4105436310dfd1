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
 * The CPU-lending rule (DESIGN "Nested tasks"): a producer paused by backpressure, or a task
 * waiting for an item, lends its CPU, and a worker whose every task waits is leased again and runs
 * more tasks in the same JVM. So a consumer that reads more backpressured streams than the node has
 * CPUs or worker JVMs, round-robin, never waits for a stream that cannot start. Two CPUs, no worker
 * JVM beyond them ({@code maxExtraWorkers(0)}), streams at most 2 items ahead.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class PausedProducerTest {
  private static final int CPUS = 2;
  private static final int ITEMS = 6;

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(CPUS).maxExtraWorkers(0).build());
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
    int streams = 4 * CPUS;
    List<ObjectRefGenerator<Integer>> gens = new ArrayList<>();
    for (int s = 0; s < streams; s++) {
      gens.add(
          Sluice.generator(PausedProducerTest::count, s, ITEMS)
              .options(TaskOptions.builder().generatorBackpressureNumObjects(2).build())
              .remote());
    }
    List<List<Integer>> got = new ArrayList<>();
    gens.forEach(g -> got.add(new ArrayList<>()));
    for (int i = 0; i < ITEMS; i++) {
      for (int s = 0; s < streams; s++) {
        int stream = s;
        ObjectRef<Integer> item =
            gens.get(s)
                .next(Duration.ofSeconds(60))
                .orElseThrow(
                    () -> new AssertionError("stream " + stream + " gave no item within 60 s"));
        got.get(s).add(item.get());
      }
    }
    for (int s = 0; s < streams; s++) {
      int base = s * 1000;
      assertThat(got.get(s))
          .containsExactlyElementsOf(IntStream.range(0, ITEMS).map(i -> base + i).boxed().toList());
      assertThat(gens.get(s).hasNext()).as("stream %d ends after its items", s).isFalse();
      gens.get(s).close();
    }
  }

  static List<Integer> readOwnStreams(int streams, int items) {
    List<ObjectRefGenerator<Integer>> gens = new ArrayList<>();
    for (int s = 0; s < streams; s++) {
      gens.add(
          Sluice.generator(PausedProducerTest::count, s, items)
              .options(TaskOptions.builder().generatorBackpressureNumObjects(1).build())
              .remote());
    }
    List<Integer> got = new ArrayList<>();
    for (int i = 0; i < items; i++) {
      for (ObjectRefGenerator<Integer> g : gens) {
        got.add(g.next().get());
      }
    }
    gens.forEach(ObjectRefGenerator::close);
    return got;
  }

  @Test
  void tasksReadingTheirOwnStreamsOnAFullNodeRunTheProducersInTheirOwnJvms() {
    // Both CPUs and both worker JVMs are taken by readers; their producers can only run on the
    // CPUs the waiting readers lend, in the readers' JVMs.
    List<ObjectRef<List<Integer>>> readers =
        List.of(
            Sluice.task(PausedProducerTest::readOwnStreams, 3, ITEMS).remote(),
            Sluice.task(PausedProducerTest::readOwnStreams, 3, ITEMS).remote());
    for (ObjectRef<List<Integer>> r : readers) {
      List<Integer> got = r.get(Duration.ofSeconds(120));
      assertThat(got).hasSize(3 * ITEMS);
      assertThat(got.subList(0, 3)).containsExactly(0, 1000, 2000);
      assertThat(got.subList(got.size() - 3, got.size()))
          .containsExactly(ITEMS - 1, 1000 + ITEMS - 1, 2000 + ITEMS - 1);
    }
    assertThat(SluiceTestSupport.workerPids()).hasSizeLessThanOrEqualTo(CPUS);
  }
}
