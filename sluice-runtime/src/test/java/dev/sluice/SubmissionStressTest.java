package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rule checked: no task is lost and none runs forever under load. Several threads submit tens of
 * thousands of small tasks at once; a few tasks sleep, so some workers have tasks queued while
 * others go idle and the owner steals queued tasks back, and a few tasks halt their worker once,
 * losing whatever was queued behind them there. Every task must return its own result.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SubmissionStressTest {
  private static final int THREADS = 4;
  private static final int TASKS_PER_THREAD = 6_000;

  /** One task in this many sleeps a little, keeping its worker's queue full meanwhile. */
  private static final int SLEEPER_EVERY = 300;

  /** Index (per thread) of the task that halts its worker, the first time it runs. */
  private static final int HALTER = TASKS_PER_THREAD / 2;

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(4).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  /**
   * Returns {@code x * x}; sleeps 20 ms first if asked, and halts its worker JVM instead if {@code
   * haltMarker} is set and does not exist yet (it is created first, so only once).
   */
  static long square(long x, boolean sleep, String haltMarker) throws InterruptedException {
    if (!haltMarker.isEmpty() && SluiceTestSupport.createdNow(Path.of(haltMarker))) {
      Runtime.getRuntime().halt(1);
    }
    if (sleep) {
      Thread.sleep(20);
    }
    return x * x;
  }

  @Test
  void tensOfThousandsOfTasksFromSeveralThreadsWithStealingAndWorkerDeathsAllReturn(
      @TempDir Path markers) {
    List<CompletableFuture<Void>> submitters = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      submitters.add(
          CompletableFuture.runAsync(
              () -> {
                List<ObjectRef<Long>> refs = new ArrayList<>(TASKS_PER_THREAD);
                for (int i = 0; i < TASKS_PER_THREAD; i++) {
                  long x = (long) thread * TASKS_PER_THREAD + i;
                  String halt = i == HALTER ? markers.resolve("halted-" + x).toString() : "";
                  refs.add(
                      Sluice.task(SubmissionStressTest::square, x, i % SLEEPER_EVERY == 0, halt)
                          .remote());
                }
                List<Long> results = Sluice.get(refs);
                for (int i = 0; i < TASKS_PER_THREAD; i++) {
                  long x = (long) thread * TASKS_PER_THREAD + i;
                  assertThat(results.get(i)).as("task %d", x).isEqualTo(x * x);
                }
              },
              r -> Thread.ofPlatform().name("submitter-" + thread).start(r)));
    }
    CompletableFuture.allOf(submitters.toArray(CompletableFuture[]::new))
        .orTimeout(150, TimeUnit.SECONDS)
        .join();
    try (var halted = Files.list(markers)) {
      assertThat(halted.count()).as("workers halted").isEqualTo(THREADS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
