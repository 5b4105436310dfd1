package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A task that started on a worker because the task ahead of it blocked (the CPU-lending rule) ran,
 * so a worker death it causes is charged to it (a retry is charged only to a task that ran, and to
 * every task that did): without that, a task that kills its worker would be queued again for free
 * forever.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class LendingRetryTest {
  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(1).maxExtraWorkers(1).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  static int nap() throws InterruptedException {
    Thread.sleep(2000);
    return 0;
  }

  /** Blocks in wait() on a child, which lets the next task pushed to its worker start. */
  static int blocksInWait() {
    ObjectRef<Integer> child = Sluice.task(LendingRetryTest::nap).remote();
    Sluice.wait(List.of(child), 1, Duration.ofSeconds(60));
    return Sluice.runtimeContext().attemptNumber();
  }

  /** Records each start (its attempt number) in {@code dir}; kills its worker on attempt 0. */
  static int haltsOnItsFirstAttempt(String dir) throws java.io.IOException {
    int attempt = Sluice.runtimeContext().attemptNumber();
    Files.writeString(Path.of(dir, "attempt-" + attempt + "-" + UUID.randomUUID()), "");
    if (attempt == 0) {
      Runtime.getRuntime().halt(1);
    }
    return attempt;
  }

  @Test
  void aTaskStartedBehindABlockedOneIsChargedForTheWorkerItKilled(@TempDir Path dir)
      throws Exception {
    // One CPU, one lease: both are pushed to the same worker, the second behind the first.
    ObjectRef<Integer> blocked = Sluice.task(LendingRetryTest::blocksInWait).remote();
    ObjectRef<Integer> killer =
        Sluice.task(LendingRetryTest::haltsOnItsFirstAttempt, dir.toString())
            .options(TaskOptions.builder().maxRetries(2).build())
            .remote();
    assertThat(killer.get(Duration.ofSeconds(120))).as("its second attempt succeeded").isEqualTo(1);
    assertThat(blocked.get(Duration.ofSeconds(120))).as("it ran, and was charged too").isEqualTo(1);
    try (Stream<Path> starts = Files.list(dir)) {
      assertThat(starts.map(p -> p.getFileName().toString().split("-")[1]).sorted())
          .as("every start of the killer was charged: no attempt number ran twice")
          .containsExactly("0", "1");
    }
  }
}
