package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rule checked: a worker's death costs a retry only to the task that ran on it. Three times as many
 * streaming generators as CPUs run at once, some with backpressure; each halts its own worker JVM
 * once, at a random item. With {@code maxRetries(3)} every stream must still end exact, which holds
 * only if no stream is charged for another's death (a generator is never queued behind another task
 * on a worker, and tasks queued behind a dead worker's running task are resubmitted without
 * spending a retry).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class WorkerDeathRetryTest {
  private static final int CPUS = 4;
  private static final int STREAMS = 12;
  private static final int ITEMS = 30;
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Random RANDOM = new Random();

  @BeforeAll
  static void startCluster() {
    // Spare workers: a stream whose turn comes takes a started one instead of waiting for the
    // JVM that replaces a halted worker (the node keeps this many, replacing each that dies).
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(CPUS).numWorkers(2 * CPUS).build());
    GeneratorTestFiles.awaitIdleWorkers(2 * CPUS);
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  /**
   * Yields 0 .. n-1, a millisecond apart; before item {@code haltAt} it halts its worker JVM, the
   * first time only (the marker file {@code marker} records that it did).
   */
  static Iterator<Integer> haltsOnce(String marker, Integer n, Integer haltAt) {
    return new Iterator<>() {
      private int k;

      @Override
      public boolean hasNext() {
        return k < n;
      }

      @Override
      public Integer next() {
        if (k >= n) {
          throw new NoSuchElementException();
        }
        if (k == haltAt && SluiceTestSupport.createdNow(Path.of(marker))) {
          Runtime.getRuntime().halt(1);
        }
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
        return k++;
      }
    };
  }

  @RepeatedTest(10)
  void concurrentStreamsThatEachKillTheirWorkerOnceAllEndExactWithinThreeRetries(
      @TempDir Path markers) {
    List<ObjectRefGenerator<Integer>> streams = new ArrayList<>();
    for (int s = 0; s < STREAMS; s++) {
      TaskOptions.Builder options = TaskOptions.builder().maxRetries(3);
      if (s % 2 == 0) {
        options.generatorBackpressureNumObjects(2 + s % 3);
      }
      streams.add(
          Sluice.generator(
                  WorkerDeathRetryTest::haltsOnce,
                  markers.resolve("halted-" + s).toString(),
                  ITEMS,
                  RANDOM.nextInt(ITEMS))
              .options(options.build())
              .remote());
    }
    // One consumer per stream: a stream with backpressure waits for its own consumer only.
    List<CompletableFuture<List<Integer>>> consumed = new ArrayList<>();
    for (ObjectRefGenerator<Integer> gen : streams) {
      consumed.add(
          CompletableFuture.supplyAsync(
              () -> {
                List<Integer> values = new ArrayList<>();
                try (gen) {
                  for (ObjectRef<Integer> ref : gen) {
                    values.add(ref.get(WAIT));
                  }
                }
                return values;
              },
              r -> Thread.ofVirtual().start(r)));
    }

    List<Integer> expected = IntStream.range(0, ITEMS).boxed().toList();
    for (int s = 0; s < STREAMS; s++) {
      assertThat(consumed.get(s).orTimeout(120, TimeUnit.SECONDS).join())
          .as("stream %d", s)
          .isEqualTo(expected);
      assertThat(markers.resolve("halted-" + s)).as("stream %d halted its worker", s).exists();
    }
  }
}
