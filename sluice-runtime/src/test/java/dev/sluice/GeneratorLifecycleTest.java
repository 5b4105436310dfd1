package dev.sluice;

import static dev.sluice.GeneratorTestFiles.exists;
import static dev.sluice.GeneratorTestFiles.touch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.GeneratorTestFiles.OnRequestPublisher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end of a stream from the consumer's side, on a real cluster: {@code close()} and garbage
 * collection delete the caller-side stream and release a producer blocked on backpressure without
 * cancelling the task; {@link Sluice#cancel(ObjectRefGenerator)} stops a running or a queued
 * generator and the stream ends with {@link TaskCancelledException}.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class GeneratorLifecycleTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int NUM_CPUS = 2;

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(NUM_CPUS).build());
    GeneratorTestFiles.awaitIdleWorkers(NUM_CPUS);
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  // ------------------------------------------------------------------ task functions

  /** Yields 0..9 (creating yielded-k before item k), then creates "finished" and ends. */
  static Iterator<Integer> tenThenFinished(String dir) {
    Path d = Path.of(dir);
    return new Iterator<>() {
      private int k;

      @Override
      public boolean hasNext() {
        if (k < 10) {
          return true;
        }
        touch(d, "finished");
        return false;
      }

      @Override
      public Integer next() {
        touch(d, "yielded-" + k);
        return k++;
      }
    };
  }

  /**
   * An {@link AutoCloseable} iterator that yields 0 and 1, then sleeps in next() (creating
   * "sleeping" first) until interrupted; close() creates "closed".
   */
  static Iterator<Integer> twoThenSleep(String dir) {
    return new SleepyIterator(Path.of(dir));
  }

  static final class SleepyIterator implements Iterator<Integer>, AutoCloseable {
    private final Path dir;
    private int k;

    SleepyIterator(Path dir) {
      this.dir = dir;
    }

    @Override
    public boolean hasNext() {
      return true;
    }

    @Override
    public Integer next() {
      if (k == 2) {
        touch(dir, "sleeping");
        GeneratorTestFiles.stall(dir);
        throw new IllegalStateException("not cancelled in time");
      }
      return k++;
    }

    @Override
    public void close() {
      touch(dir, "closed");
    }
  }

  /** An {@link AutoCloseable} iterator of 0..9 whose close() creates "closed". */
  static Iterator<Integer> closeableTen(String dir) {
    Path d = Path.of(dir);
    class Ten implements Iterator<Integer>, AutoCloseable {
      private int k;

      @Override
      public boolean hasNext() {
        return k < 10;
      }

      @Override
      public Integer next() {
        return k++;
      }

      @Override
      public void close() {
        touch(d, "closed");
      }
    }
    return new Ten();
  }

  /**
   * Yields 0 and 1, then sleeps in next() (creating "sleeping" first) and, when interrupted, throws
   * an unchecked exception wrapping the InterruptedException without restoring the interrupt flag:
   * the common way a Java iterator, which cannot throw checked exceptions, deals with an interrupt.
   */
  static Iterator<Integer> twoThenSleepWrappingTheInterrupt(String dir) {
    Path d = Path.of(dir);
    return new Iterator<>() {
      private int k;

      @Override
      public boolean hasNext() {
        return true;
      }

      @Override
      public Integer next() {
        if (k == 2) {
          touch(d, "sleeping");
          try {
            Thread.sleep(GeneratorTestFiles.WORKER_WAIT_MILLIS);
          } catch (InterruptedException e) {
            throw new RuntimeException("interrupted while producing item 2", e);
          }
          throw new IllegalStateException("not cancelled in time");
        }
        return k++;
      }
    };
  }

  /** A publisher that emits 0 and 1, then stalls until its subscription is cancelled. */
  static Flow.Publisher<Integer> publisherStallingAtTwo(String dir) {
    return new OnRequestPublisher(10, Path.of(dir), -1, 2);
  }

  /** A publisher of 0..9 that emits only on request and records its progress in dir. */
  static Flow.Publisher<Integer> recordedPublisher(String dir) {
    return new OnRequestPublisher(10, Path.of(dir));
  }

  /** Creates "ran" in dir, then yields 0..2. */
  static Iterator<Integer> markRan(String dir) {
    touch(Path.of(dir), "ran");
    return List.of(0, 1, 2).iterator();
  }

  /** A normal task: creates started-name, then sleeps until "release" exists in dir. */
  static String occupyCpu(String dir, String name) {
    Path d = Path.of(dir);
    touch(d, "started-" + name);
    GeneratorTestFiles.awaitMarker(d, "release");
    return name;
  }

  static int one() {
    return 1;
  }

  // ------------------------------------------------------------------ helpers

  private static TaskOptions backpressure(int n) {
    return TaskOptions.builder().generatorBackpressureNumObjects(n).build();
  }

  private static void assertEnded(ObjectRefGenerator<?> gen) {
    assertThat(gen.hasNext()).isFalse();
    assertThatThrownBy(gen::next).isInstanceOf(NoSuchElementException.class);
  }

  /** Asserts the stream yields the generator ref once, whose get() throws, then ends. */
  private static void assertStreamEndsCancelled(ObjectRefGenerator<Integer> gen) {
    ObjectRef<Integer> last = gen.next();
    assertThat(last.id()).as("the generator's own ref").isEqualTo(gen.id());
    assertThatThrownBy(() -> last.get(WAIT)).isInstanceOf(TaskCancelledException.class);
    assertEnded(gen);
    assertThat(gen.isFinished()).isTrue();
    assertThatThrownBy(() -> gen.completed().get(WAIT)).isInstanceOf(TaskCancelledException.class);
  }

  /** Submits a generator with backpressure 1 and drops every reference to it. */
  private static void startAndForgetGenerator(Path dir) {
    Sluice.generator(GeneratorLifecycleTest::tenThenFinished, dir.toString())
        .options(backpressure(1))
        .remote();
  }

  // ------------------------------------------------------------------ tests

  @Test
  void closeIsIdempotentReleasesTheBlockedProducerAndDoesNotCancelTheTask(@TempDir Path dir) {
    ObjectRefGenerator<Integer> gen =
        Sluice.generator(GeneratorLifecycleTest::tenThenFinished, dir.toString())
            .options(backpressure(1))
            .remote();
    ObjectRef<Integer> first = gen.next();
    assertThat(first.get(WAIT)).isZero();
    // With one consumed and a bound of 1 the producer stops after item 1.
    await("producer at its bound").atMost(WAIT).until(() -> exists(dir, "yielded-1"));
    assertThat(exists(dir, "finished")).isFalse();

    gen.close();
    gen.close();

    assertEnded(gen);
    await("producer released by close()").atMost(WAIT).until(() -> exists(dir, "finished"));
    assertThat(exists(dir, "yielded-9")).isTrue();
    assertThat(gen.completed().get(WAIT)).as("the task was not cancelled").isNull();
    assertThat(first.get(WAIT)).as("a consumed item outlives close()").isZero();
    gen.close();
  }

  @Test
  void unreachableGeneratorIsCollectedAndItsStreamDeletedReleasingTheProducer(@TempDir Path dir) {
    startAndForgetGenerator(dir);
    await("producer blocked at its bound").atMost(WAIT).until(() -> exists(dir, "yielded-0"));

    await("producer released once the generator was garbage collected")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              System.gc();
              return exists(dir, "finished");
            });
  }

  @Test
  void cancelOfRunningGeneratorEndsStreamWithCancelledGeneratorRefAndClosesIterator(
      @TempDir Path dir) {
    ObjectRefGenerator<Integer> gen =
        Sluice.generator(GeneratorLifecycleTest::twoThenSleep, dir.toString()).remote();
    try {
      assertThat(gen.next().get(WAIT)).isEqualTo(0);
      assertThat(gen.next().get(WAIT)).isEqualTo(1);
      await("generator sleeping in next()").atMost(WAIT).until(() -> exists(dir, "sleeping"));

      Sluice.cancel(gen);

      assertStreamEndsCancelled(gen);
      await("iterator closed on cancel").atMost(WAIT).until(() -> exists(dir, "closed"));
    } finally {
      gen.close();
    }
  }

  @Test
  void cancelOfGeneratorBlockedOnBackpressureEndsStreamCancelledAndClosesIterator(
      @TempDir Path dir) {
    ObjectRefGenerator<Integer> gen =
        Sluice.generator(GeneratorLifecycleTest::closeableTen, dir.toString())
            .options(backpressure(1))
            .remote();
    try {
      assertThat(gen.next().get(WAIT)).isEqualTo(0);
      // The producer reported item 1 and waits for credit.
      await("item 1 reported").atMost(WAIT).until(gen::nextReady);

      Sluice.cancel(gen);

      await("iterator closed on cancel").atMost(WAIT).until(() -> exists(dir, "closed"));
      // Item 1 was reported before the cancel; whether or not it is still handed out, the
      // stream must then yield the cancelled generator ref and end.
      ObjectRef<Integer> next = gen.next();
      if (!next.id().equals(gen.id())) {
        assertThat(next.get(WAIT)).isEqualTo(1);
        next = gen.next();
      }
      ObjectRef<Integer> last = next;
      assertThat(last.id()).isEqualTo(gen.id());
      assertThatThrownBy(() -> last.get(WAIT)).isInstanceOf(TaskCancelledException.class);
      assertEnded(gen);
      assertThatThrownBy(() -> gen.completed().get(WAIT))
          .isInstanceOf(TaskCancelledException.class);
    } finally {
      gen.close();
    }
  }

  @Test
  void closeOfAsyncGeneratorReleasesThePublisherHeldBackByBackpressure(@TempDir Path dir) {
    ObjectRefGenerator<Integer> gen =
        Sluice.asyncGenerator(GeneratorLifecycleTest::recordedPublisher, dir.toString())
            .options(backpressure(1))
            .remote();
    assertThat(gen.next().get(WAIT)).isZero();
    await("publisher at its bound").atMost(WAIT).until(() -> exists(dir, "yielded-1"));
    assertThat(exists(dir, "yielded-9")).isFalse();

    gen.close();

    await("publisher released by close()").atMost(WAIT).until(() -> exists(dir, "yielded-9"));
    assertThat(gen.completed().get(WAIT)).as("the task was not cancelled").isNull();
    assertEnded(gen);
  }

  @Test
  void cancelOfRunningAsyncGeneratorCancelsTheSubscriptionAndEndsStreamCancelled(
      @TempDir Path dir) {
    ObjectRefGenerator<Integer> gen =
        Sluice.asyncGenerator(GeneratorLifecycleTest::publisherStallingAtTwo, dir.toString())
            .remote();
    try {
      assertThat(gen.next().get(WAIT)).isEqualTo(0);
      assertThat(gen.next().get(WAIT)).isEqualTo(1);
      await("publisher stalled").atMost(WAIT).until(() -> exists(dir, "stalled"));

      Sluice.cancel(gen);

      assertStreamEndsCancelled(gen);
      await("subscription cancelled").atMost(WAIT).until(() -> exists(dir, "cancelled"));
    } finally {
      gen.close();
    }
  }

  @Test
  void cancelOfGeneratorWhoseIteratorWrapsTheInterruptYieldsNoApplicationErrorItem(
      @TempDir Path dir) throws Exception {
    ObjectRefGenerator<Integer> gen =
        Sluice.generator(GeneratorLifecycleTest::twoThenSleepWrappingTheInterrupt, dir.toString())
            .remote();
    try {
      assertThat(gen.next().get(WAIT)).isEqualTo(0);
      assertThat(gen.next().get(WAIT)).isEqualTo(1);
      // A consumer already waiting for the next item when the cancel lands.
      CompletableFuture<ObjectRef<Integer>> waiting = gen.nextAsync();
      await("generator sleeping in next()").atMost(WAIT).until(() -> exists(dir, "sleeping"));

      Sluice.cancel(gen);

      ObjectRef<Integer> last = waiting.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(last.id())
          .as(
              "after a cancel the waiting consumer gets the cancelled generator ref, not an "
                  + "application-error item made of the interrupt (%s)",
              describe(last))
          .isEqualTo(gen.id());
      assertThatThrownBy(() -> last.get(WAIT)).isInstanceOf(TaskCancelledException.class);
      assertEnded(gen);
      assertThatThrownBy(() -> gen.completed().get(WAIT))
          .isInstanceOf(TaskCancelledException.class);
    } finally {
      gen.close();
    }
  }

  private static String describe(ObjectRef<?> ref) {
    try {
      return ref.id() + " = " + ref.get(WAIT);
    } catch (RuntimeException e) {
      return ref.id() + " throwing " + e;
    }
  }

  @Test
  void cancelOfGeneratorQueuedBehindBusyCpusMeansItNeverRunsAndTheStreamEndsCancelled(
      @TempDir Path dir) {
    List<ObjectRef<String>> occupiers = new ArrayList<>();
    try {
      // Occupy every CPU, one task after the other.
      for (int i = 0; i < NUM_CPUS; i++) {
        String name = "cpu" + i;
        occupiers.add(
            Sluice.task(GeneratorLifecycleTest::occupyCpu, dir.toString(), name).remote());
        await(name + " occupied")
            .atMost(Duration.ofSeconds(15))
            .until(() -> exists(dir, "started-" + name));
      }

      ObjectRefGenerator<Integer> gen =
          Sluice.generator(GeneratorLifecycleTest::markRan, dir.toString()).remote();
      assertThat(gen.nextReady()).isFalse();

      Sluice.cancel(gen);

      assertStreamEndsCancelled(gen);
      gen.close();
    } finally {
      touch(dir, "release");
    }
    assertNeverRan(dir, occupiers);
  }

  @Test
  void cancelOfGeneratorQueuedForLackOfResourcesMeansItNeverRunsAndTheStreamEndsCancelled(
      @TempDir Path dir) {
    List<ObjectRef<String>> occupiers = new ArrayList<>();
    try {
      occupiers.add(
          Sluice.task(GeneratorLifecycleTest::occupyCpu, dir.toString(), "cpu0").remote());
      await("one CPU occupied").atMost(WAIT).until(() -> exists(dir, "started-cpu0"));

      // Needs both CPUs: it cannot be granted a worker while one CPU is taken.
      ObjectRefGenerator<Integer> gen =
          Sluice.generator(GeneratorLifecycleTest::markRan, dir.toString())
              .options(TaskOptions.builder().numCpus(NUM_CPUS).build())
              .remote();
      assertThat(gen.nextReady()).isFalse();

      Sluice.cancel(gen);

      assertStreamEndsCancelled(gen);
      gen.close();
    } finally {
      touch(dir, "release");
    }
    assertNeverRan(dir, occupiers);
  }

  /** Frees the CPUs, lets queued work drain and checks the cancelled generator never ran. */
  private static void assertNeverRan(Path dir, List<ObjectRef<String>> occupiers) {
    for (ObjectRef<String> o : occupiers) {
      assertThat(o.get(WAIT)).startsWith("cpu");
    }
    // With the CPUs free again a queued generator would run now; it must not.
    assertThat(Sluice.task(GeneratorLifecycleTest::one).remote().get(WAIT)).isEqualTo(1);
    await("the cancelled generator never runs")
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(5))
        .until(() -> !exists(dir, "ran"));
  }
}
