package dev.sluice;

import static dev.sluice.GeneratorTestFiles.exists;
import static dev.sluice.GeneratorTestFiles.read;
import static dev.sluice.GeneratorTestFiles.touch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cancellation always ends, on a real one-CPU cluster (so a task that runs after a cancellation
 * proves the cancelled task's CPU is free again): a task that ignores interruption has its worker
 * killed after {@link SluiceConfig#cancelGracePeriod()}, or at once with {@code force}; {@code get}
 * throws {@link TaskCancelledException} and the task is never retried; a task that honours the
 * interrupt ends by it and its worker lives on. Each test starts its own cluster, because the grace
 * period is a cluster setting.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class CancellationTest {
  /** Generous bound for anything that should happen soon (the machine is shared and loaded). */
  private static final Duration WAIT = Duration.ofSeconds(60);

  private static final Duration SHORT_GRACE = Duration.ofSeconds(2);

  /** A grace period no test waits for: whatever ends well before it was not ended by it. */
  private static final Duration LONG_GRACE = Duration.ofMinutes(10);

  /** Longest a spinning task spins if nothing kills it (it also stops when its directory goes). */
  private static final long SPIN_LIMIT_MILLIS = 5 * 60_000;

  @AfterEach
  void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  private static void startOneCpuCluster(Duration grace) {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(1).cancelGracePeriod(grace).build());
    // Worker start-up (slow on a loaded machine) must not count against the time bounds below.
    GeneratorTestFiles.awaitIdleWorkers(1);
  }

  // ------------------------------------------------------------------ task functions

  /**
   * Creates {@code started-<attempt>} (holding its pid), then burns CPU without ever looking at the
   * interrupt flag, until {@code dir} is deleted or {@link #SPIN_LIMIT_MILLIS} passes.
   */
  static long spin(String dir) {
    Path d = Path.of(dir);
    touch(d, "started-" + Sluice.runtimeContext().attemptNumber());
    spinUntilGone(d);
    return -1;
  }

  private static void spinUntilGone(Path d) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SPIN_LIMIT_MILLIS);
    long spins = 0;
    while (System.nanoTime() < deadline) {
      if (++spins % 1_000_000 == 0 && !Files.isDirectory(d)) {
        return;
      }
    }
  }

  /** Creates {@code started-0} (holding its pid), then sleeps interruptibly for a minute. */
  static long sleepInterruptibly(String dir) throws InterruptedException {
    touch(Path.of(dir), "started-0");
    Thread.sleep(WAIT.toMillis());
    return -1;
  }

  /** Yields 0, then creates {@code spinning} (holding its pid) and spins in next(). */
  static Iterator<Integer> oneThenSpin(String dir) {
    Path d = Path.of(dir);
    return new Iterator<>() {
      private int k;

      @Override
      public boolean hasNext() {
        return true;
      }

      @Override
      public Integer next() {
        if (k == 1) {
          touch(d, "spinning");
          spinUntilGone(d);
          throw new IllegalStateException("not killed in time");
        }
        return k++;
      }
    };
  }

  static long pid() {
    return ProcessHandle.current().pid();
  }

  // ------------------------------------------------------------------ helpers

  /** Waits for marker {@code name} in {@code dir} and returns the pid written in it. */
  private static long awaitPidIn(Path dir, String name) {
    await(name).atMost(WAIT).until(() -> exists(dir, name));
    return Long.parseLong(read(dir, name));
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  private static void awaitDead(long pid) {
    await("worker pid " + pid + " gone").atMost(WAIT).until(() -> !alive(pid));
  }

  private static List<String> startedMarkers(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("started-"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ------------------------------------------------------------------ tests

  @Test
  void aTaskIgnoringTheInterruptIsKilledAfterTheGracePeriodAndItsCpuIsFreeAgain(@TempDir Path dir) {
    startOneCpuCluster(SHORT_GRACE);
    ObjectRef<Long> spinning = Sluice.task(CancellationTest::spin, dir.toString()).remote();
    long workerPid = awaitPidIn(dir, "started-0");

    long t0 = System.nanoTime();
    Sluice.cancel(spinning);
    // Submitted while the spinner holds the only CPU: it can only run once that CPU is free.
    ObjectRef<Long> next = Sluice.task(CancellationTest::pid).remote();
    Throwable t = catchThrowable(() -> spinning.get(WAIT));
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    assertThat(t)
        .isExactlyInstanceOf(TaskCancelledException.class)
        .hasMessageContaining(spinning.id().taskId().hex())
        .hasMessageContaining("CancellationTest.spin")
        .hasMessageContaining("grace period")
        .hasMessageContaining("killed");
    assertThat(took)
        .as("ended by the kill after the grace period, not before")
        .isGreaterThanOrEqualTo(SHORT_GRACE)
        .isLessThan(SHORT_GRACE.plus(WAIT));
    assertThat(next.get(WAIT)).as("the next task runs on a new worker").isNotEqualTo(workerPid);
    awaitDead(workerPid);
  }

  @Test
  void forceKillsTheWorkerAtOnceWithoutWaitingForTheGracePeriod(@TempDir Path dir) {
    startOneCpuCluster(LONG_GRACE);
    ObjectRef<Long> spinning = Sluice.task(CancellationTest::spin, dir.toString()).remote();
    long workerPid = awaitPidIn(dir, "started-0");

    long t0 = System.nanoTime();
    Sluice.cancel(spinning, true);
    Throwable t = catchThrowable(() -> spinning.get(WAIT));
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    assertThat(t)
        .isExactlyInstanceOf(TaskCancelledException.class)
        .hasMessageContaining(spinning.id().taskId().hex())
        .hasMessageContaining("force");
    assertThat(took).as("well before the 10 min grace period").isLessThan(WAIT);
    awaitDead(workerPid);
    assertThat(Sluice.task(CancellationTest::pid).remote().get(WAIT))
        .as("the CPU is free again")
        .isNotEqualTo(workerPid);
  }

  @Test
  void aCancelledTaskIsNotRetriedEvenWithRetriesLeft(@TempDir Path dir) {
    startOneCpuCluster(SHORT_GRACE);
    ObjectRef<Long> spinning =
        Sluice.task(CancellationTest::spin, dir.toString())
            .options(TaskOptions.builder().maxRetries(5).retryExceptions(true).build())
            .remote();
    long workerPid = awaitPidIn(dir, "started-0");

    Sluice.cancel(spinning);

    assertThatThrownBy(() -> spinning.get(WAIT))
        .as("a killed cancelled task is a cancellation, not a worker crash")
        .isExactlyInstanceOf(TaskCancelledException.class);
    awaitDead(workerPid);
    // With one CPU, a retry would hold it: this task could not run before the retry ended.
    assertThat(Sluice.task(CancellationTest::pid).remote().get(WAIT)).isNotEqualTo(workerPid);
    assertThat(startedMarkers(dir)).as("attempts started").containsExactly("started-0");
  }

  @Test
  void anInterruptibleTaskEndsByTheInterruptAndItsWorkerLivesOn(@TempDir Path dir) {
    startOneCpuCluster(SHORT_GRACE);
    ObjectRef<Long> sleeping =
        Sluice.task(CancellationTest::sleepInterruptibly, dir.toString()).remote();
    long workerPid = awaitPidIn(dir, "started-0");

    Sluice.cancel(sleeping);

    assertThat(catchThrowable(() -> sleeping.get(WAIT)))
        .isExactlyInstanceOf(TaskCancelledException.class)
        .hasMessageNotContaining("killed");
    await("the worker outlives the grace period")
        .atMost(SHORT_GRACE.plus(WAIT))
        .during(SHORT_GRACE.plusSeconds(2))
        .until(() -> alive(workerPid));
    assertThat(Sluice.task(CancellationTest::pid).remote().get(WAIT)).isPositive();
  }

  @Test
  void aGeneratorSpinningInItsIteratorIsKilledAndItsStreamEndsCancelled(@TempDir Path dir) {
    startOneCpuCluster(SHORT_GRACE);
    ObjectRefGenerator<Integer> gen =
        Sluice.generator(CancellationTest::oneThenSpin, dir.toString()).remote();
    assertThat(gen.next().get(WAIT)).isZero();
    long workerPid = awaitPidIn(dir, "spinning");

    long t0 = System.nanoTime();
    Sluice.cancel(gen);
    ObjectRef<Integer> last = gen.next(WAIT).orElseThrow();

    assertThat(last.id()).as("the stream ends with the generator's own ref").isEqualTo(gen.id());
    assertThatThrownBy(() -> last.get(WAIT)).isExactlyInstanceOf(TaskCancelledException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(SHORT_GRACE);
    assertThat(gen.hasNext()).isFalse();
    assertThatThrownBy(() -> gen.completed().get(WAIT))
        .isExactlyInstanceOf(TaskCancelledException.class)
        .hasMessageContaining("CancellationTest.oneThenSpin");
    awaitDead(workerPid);
    assertThat(Sluice.task(CancellationTest::pid).remote().get(WAIT)).isNotEqualTo(workerPid);
  }
}
