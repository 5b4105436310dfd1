package dev.sluice;

import static dev.sluice.GeneratorTestFiles.exists;
import static dev.sluice.GeneratorTestFiles.read;
import static dev.sluice.GeneratorTestFiles.touch;
import static dev.sluice.GeneratorTestFiles.writeAtomically;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.common.ProcessCommandLine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streaming generators whose task fails as a whole, with real processes: the worker JVM running the
 * generator is killed with {@code SIGKILL} mid-stream. Without retries the stream ends with the
 * generator ref throwing {@link WorkerCrashedException}; with retries the consumer sees every item
 * exactly once, in order, as the retry re-yields what the dead attempt had yielded. Retried
 * application errors ({@code retryExceptions}) behave the same.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class GeneratorFailureTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(2).build());
    GeneratorTestFiles.awaitIdleWorkers(2);
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  // ------------------------------------------------------------------ generator functions

  /**
   * Records "attempt-A" (A = attempt number) and writes its pid to "pid-A", then yields item k = k
   * for k in 0..n-1; on attempt 0 it stalls before item {@code stallAt} (creating "stalled"),
   * waiting to be killed. Later attempts run through.
   */
  static Iterator<Integer> killable(String dir, int n, int stallAt) {
    Path d = Path.of(dir);
    int attempt = Sluice.runtimeContext().attemptNumber();
    touch(d, "attempt-" + attempt);
    writeAtomically(d.resolve("pid-" + attempt), Long.toString(ProcessHandle.current().pid()));
    return new Iterator<>() {
      private int k;

      @Override
      public boolean hasNext() {
        if (attempt == 0 && k == stallAt) {
          touch(d, "stalled");
          GeneratorTestFiles.stall(d);
        }
        return k < n;
      }

      @Override
      public Integer next() {
        return k++;
      }
    };
  }

  /** Yields k for k in 0..n-1, except that attempt 0 throws after {@code failAfter} items. */
  static Iterator<Integer> flaky(String dir, int n, int failAfter) {
    int attempt = Sluice.runtimeContext().attemptNumber();
    touch(Path.of(dir), "attempt-" + attempt);
    return IntStream.range(0, n)
        .map(
            k -> {
              if (attempt == 0 && k == failAfter) {
                throw new IllegalStateException("flaky failure on attempt 0 at item " + k);
              }
              return k;
            })
        .iterator();
  }

  /** Records "attempt-A", yields 0 .. failAfter-1, then throws, on every attempt. */
  static Iterator<Integer> alwaysFailing(String dir, int failAfter) {
    int attempt = Sluice.runtimeContext().attemptNumber();
    touch(Path.of(dir), "attempt-" + attempt);
    return IntStream.rangeClosed(0, failAfter)
        .map(
            k -> {
              if (k == failAfter) {
                throw new IllegalStateException("failure on attempt " + attempt + " at item " + k);
              }
              return k;
            })
        .iterator();
  }

  // ------------------------------------------------------------------ helpers

  private static long awaitPid(Path dir, int attempt) {
    await("attempt " + attempt + " wrote its worker pid")
        .atMost(WAIT)
        .until(() -> exists(dir, "pid-" + attempt));
    return Long.parseLong(read(dir, "pid-" + attempt));
  }

  /** Kills the worker with SIGKILL and waits until it is gone. */
  private static void killWorker(long pid) {
    ProcessHandle worker =
        ProcessHandle.of(pid)
            .orElseThrow(() -> new AssertionError("worker pid " + pid + " is not running"));
    assertThat(ProcessCommandLine.of(worker).orElse(""))
        .as("the pid the generator reported belongs to a worker JVM")
        .contains(SluiceTestSupport.WORKER_MAIN);
    assertThat(pid).isNotEqualTo(ProcessHandle.current().pid());
    assertThat(worker.destroyForcibly()).isTrue();
    await("worker " + pid + " gone").atMost(Duration.ofSeconds(10)).until(() -> !worker.isAlive());
  }

  private static List<Integer> consume(ObjectRefGenerator<Integer> gen, int count) {
    List<Integer> values = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      values.add(gen.next().get(WAIT));
    }
    return values;
  }

  private static List<Integer> consumeRest(ObjectRefGenerator<Integer> gen) {
    List<Integer> values = new ArrayList<>();
    while (gen.hasNext()) {
      values.add(gen.next().get(WAIT));
    }
    return values;
  }

  private static List<Integer> range(int from, int to) {
    return IntStream.range(from, to).boxed().toList();
  }

  /**
   * Kills attempt 0 of a {@link #killable} generator after {@code consumedBeforeKill} items and
   * checks that the consumer still sees 0..n-1 exactly once, in order, from attempt 1.
   */
  private static void killMidStreamAndExpectEveryItemOnce(
      Path dir, TaskOptions options, int consumedBeforeKill) {
    int n = 20;
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(GeneratorFailureTest::killable, dir.toString(), n, 5)
            .options(options)
            .remote()) {
      List<Integer> values = new ArrayList<>(consume(gen, consumedBeforeKill));
      await("attempt 0 stalled before item 5").atMost(WAIT).until(() -> exists(dir, "stalled"));
      killWorker(awaitPid(dir, 0));

      values.addAll(consumeRest(gen));

      assertThat(values).as("every index once, in order").isEqualTo(range(0, n));
      assertThat(gen.isFinished()).isTrue();
      assertThat(gen.completed().get(WAIT)).isNull();
      assertThat(exists(dir, "attempt-1")).as("attempt 1 ran").isTrue();
      assertThat(awaitPid(dir, 1)).isNotEqualTo(Long.parseLong(read(dir, "pid-0")));
      assertThat(exists(dir, "attempt-2")).as("no further attempt").isFalse();
    }
  }

  // ------------------------------------------------------------------ tests

  @Test
  void workerKilledMidStreamWithoutRetriesEndsStreamWithWorkerCrashedGeneratorRef(
      @TempDir Path dir) {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(GeneratorFailureTest::killable, dir.toString(), 10, 3)
            .options(TaskOptions.builder().maxRetries(0).build())
            .remote()) {
      assertThat(consume(gen, 3)).isEqualTo(range(0, 3));
      await("generator stalled before item 3").atMost(WAIT).until(() -> exists(dir, "stalled"));
      long pid = awaitPid(dir, 0);

      killWorker(pid);

      ObjectRef<Integer> last = gen.next();
      assertThat(last.id()).as("the generator's own ref").isEqualTo(gen.id());
      assertThatThrownBy(() -> last.get(WAIT))
          .isInstanceOf(WorkerCrashedException.class)
          .hasMessageContaining("pid " + pid);
      assertThat(gen.hasNext()).isFalse();
      assertThatThrownBy(gen::next).isInstanceOf(NoSuchElementException.class);
      assertThat(gen.isFinished()).isTrue();
      assertThatThrownBy(() -> gen.completed().get(WAIT))
          .isInstanceOf(WorkerCrashedException.class);
      assertThat(exists(dir, "attempt-1")).as("no retry").isFalse();
    }
  }

  @Test
  void workerKilledMidStreamWithDefaultRetriesDeliversEveryItemExactlyOnceInOrder(
      @TempDir Path dir) {
    assertThat(TaskOptions.defaults().maxRetries()).isEqualTo(3);
    // Two consumed, items 2..4 yielded by attempt 0 but not consumed when it dies.
    killMidStreamAndExpectEveryItemOnce(dir, TaskOptions.defaults(), 2);
  }

  @Test
  void workerKilledMidStreamWithRetriesAndBackpressureDeliversEveryItemExactlyOnceInOrder(
      @TempDir Path dir) {
    // With a bound of 2, attempt 0 reaches item 5 only once 4 items are consumed.
    killMidStreamAndExpectEveryItemOnce(
        dir, TaskOptions.builder().generatorBackpressureNumObjects(2).build(), 4);
  }

  @Test
  void retriedApplicationErrorDeliversEveryItemExactlyOnceAndNoErrorItem(@TempDir Path dir) {
    int n = 10;
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(GeneratorFailureTest::flaky, dir.toString(), n, 3)
            .options(TaskOptions.builder().retryExceptions(true).build())
            .remote()) {
      List<Integer> values = new ArrayList<>();
      for (ObjectRef<Integer> ref : gen) {
        values.add(ref.get(WAIT)); // an error item would throw here
      }
      assertThat(values).isEqualTo(range(0, n));
      assertThat(gen.completed().get(WAIT)).isNull();
      assertThat(exists(dir, "attempt-0")).isTrue();
      assertThat(exists(dir, "attempt-1")).isTrue();
      assertThat(exists(dir, "attempt-2")).isFalse();
    }
  }

  @Test
  void applicationErrorWithRetriesExhaustedEndsWithOneErrorItemFromTheLastAttempt(
      @TempDir Path dir) {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(GeneratorFailureTest::alwaysFailing, dir.toString(), 2)
            .options(TaskOptions.builder().retryExceptions(true).maxRetries(1).build())
            .remote()) {
      assertThat(consume(gen, 2)).isEqualTo(range(0, 2));
      ObjectRef<Integer> error = gen.next();
      assertThat(error.id()).isEqualTo(ObjectId.of(gen.id().taskId(), 2 + 2));
      assertThatThrownBy(() -> error.get(WAIT))
          .isInstanceOf(TaskException.class)
          .cause()
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("failure on attempt 1 at item 2");
      assertThat(gen.hasNext()).isFalse();
      assertThat(gen.completed().get(WAIT)).isNull();
      assertThat(exists(dir, "attempt-1")).isTrue();
      assertThat(exists(dir, "attempt-2")).isFalse();
    }
  }
}
