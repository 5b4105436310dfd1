package dev.sluice;

import static dev.sluice.GeneratorTestFiles.exists;
import static dev.sluice.GeneratorTestFiles.read;
import static dev.sluice.GeneratorTestFiles.touch;
import static dev.sluice.GeneratorTestFiles.writeAtomically;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the owner of a stream dies, its reports fail: the executor stops the generator (closing its
 * iterator) and the worker is free again. The owner here is itself a worker (a task that consumes a
 * generator), so killing it kills the owner and nothing else.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class GeneratorOwnerDeathTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(3).build());
    GeneratorTestFiles.awaitIdleWorkers(3);
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  /** An endless closeable generator: records its pid, and "closed" when it is closed. */
  static Iterator<Integer> endless(String dir) {
    Path d = Path.of(dir);
    writeAtomically(d.resolve("producer-pid"), Long.toString(ProcessHandle.current().pid()));
    return new Endless(d);
  }

  /** Yields 0, 1, 2, ... until closed; closing creates "closed". */
  private static final class Endless implements Iterator<Integer>, AutoCloseable {
    private final Path dir;
    private int next;

    Endless(Path dir) {
      this.dir = dir;
    }

    @Override
    public boolean hasNext() {
      return true;
    }

    @Override
    public Integer next() {
      return next++;
    }

    @Override
    public void close() {
      touch(dir, "closed");
    }
  }

  /** The owner: consumes one item of a backpressured stream, records its pid, then waits. */
  static int owner(String dir) throws InterruptedException {
    Path d = Path.of(dir);
    ObjectRefGenerator<Integer> gen =
        Sluice.generator(GeneratorOwnerDeathTest::endless, dir)
            .options(TaskOptions.builder().generatorBackpressureNumObjects(1).build())
            .remote();
    gen.next().get();
    writeAtomically(d.resolve("owner-pid"), Long.toString(ProcessHandle.current().pid()));
    while (!exists(d, "never")) {
      Thread.sleep(20);
    }
    gen.close();
    return 0;
  }

  static long pid() {
    return ProcessHandle.current().pid();
  }

  @Test
  void ownerDeathStopsTheGeneratorAndFreesItsWorker(@TempDir Path dir) {
    ObjectRef<Integer> ownerRef =
        Sluice.task(GeneratorOwnerDeathTest::owner, dir.toString())
            .options(TaskOptions.builder().maxRetries(0).build())
            .remote();
    await().atMost(WAIT).until(() -> exists(dir, "owner-pid") && exists(dir, "producer-pid"));
    long ownerPid = Long.parseLong(read(dir, "owner-pid"));
    long producerPid = Long.parseLong(read(dir, "producer-pid"));
    assertThat(producerPid).isNotEqualTo(ownerPid);
    assertThat(exists(dir, "closed")).as("blocked on backpressure, not closed yet").isFalse();

    ProcessHandle.of(ownerPid).orElseThrow().destroyForcibly();

    await().atMost(WAIT).until(() -> exists(dir, "closed"));
    assertThat(ProcessHandle.of(producerPid).map(ProcessHandle::isAlive)).contains(true);
    // Its lease was released with the owner: the producer's worker runs new work again.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              List<ObjectRef<Long>> refs = new ArrayList<>();
              for (int i = 0; i < 12; i++) {
                refs.add(Sluice.task(GeneratorOwnerDeathTest::pid).remote());
              }
              assertThat(Sluice.get(refs)).contains(producerPid);
            });
    assertThatThrownBy(() -> ownerRef.get(WAIT)).isInstanceOf(WorkerCrashedException.class);
  }
}
