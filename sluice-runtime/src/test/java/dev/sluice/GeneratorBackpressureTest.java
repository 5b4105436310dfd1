package dev.sluice;

import static dev.sluice.GeneratorTestFiles.exists;
import static dev.sluice.GeneratorTestFiles.read;
import static dev.sluice.GeneratorTestFiles.touch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.GeneratorTestFiles.OnRequestPublisher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Credit-based backpressure of streaming generators on a real cluster: with {@code
 * generatorBackpressureNumObjects(n)} the producer never gets more than {@code n} items ahead of
 * the consumer, for iterators and for publishers (which are asked only for what the credit allows).
 *
 * <p>The producer leaves a file {@code yielded-k} just before it hands item {@code k} over, so the
 * test sees how far it got. With {@code c} items consumed the producer may have generated {@code c
 * + n} items, i.e. indices {@code 0 .. c+n-1}; {@code yielded-(c+n)} must not appear until the
 * consumer takes another item.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class GeneratorBackpressureTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** How long the producer must stay put once it reached its bound. */
  private static final Duration SETTLE = Duration.ofMillis(100);

  private static final int ITEMS = 12;

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

  /** Yields 0..n-1, creating yielded-k in dir just before handing item k over. */
  static Iterator<Integer> recorded(String dir, int n) {
    Path d = Path.of(dir);
    return new Iterator<>() {
      private int k;

      @Override
      public boolean hasNext() {
        return k < n;
      }

      @Override
      public Integer next() {
        touch(d, "yielded-" + k);
        return k++;
      }
    };
  }

  /** Emits 0..n-1 only on request, recording yielded-k and the total requested in dir. */
  static Flow.Publisher<Integer> recordedPublisher(String dir, int n) {
    return new OnRequestPublisher(n, Path.of(dir));
  }

  // ------------------------------------------------------------------ helpers

  private static TaskOptions backpressure(int n) {
    return TaskOptions.builder().generatorBackpressureNumObjects(n).build();
  }

  /**
   * Consumes the stream slowly; before each item it waits until the producer reached its bound for
   * the current consumed count and checks that it stays there.
   */
  private static void consumeCheckingTheBound(
      ObjectRefGenerator<Integer> gen, Path dir, int n, boolean checkRequested) {
    consumeCheckingTheBound(gen, dir, n, checkRequested, ITEMS);
  }

  /** As above, for a stream of {@code items} items (other tests of the bound use it too). */
  static void consumeCheckingTheBound(
      ObjectRefGenerator<Integer> gen, Path dir, int n, boolean checkRequested, int items) {
    for (int consumed = 0; consumed < items; consumed++) {
      int c = consumed;
      int highestAllowed = Math.min(c + n, items) - 1;
      await("producer reached yielded-" + highestAllowed + " with " + c + " consumed")
          .atMost(WAIT)
          .until(() -> exists(dir, "yielded-" + highestAllowed));
      if (c + n < items) {
        await("producer stays at most " + n + " item(s) ahead with " + c + " consumed")
            .during(SETTLE)
            .atMost(SETTLE.multipliedBy(10))
            .until(() -> !exists(dir, "yielded-" + (c + n)));
      }
      if (checkRequested) {
        assertThat(Long.parseLong(read(dir, "requested")))
            .as("items requested from the publisher with %d consumed", c)
            .isBetween((long) highestAllowed + 1, (long) c + n);
      }
      ObjectRef<Integer> ref = gen.next();
      assertThat(ref.get(WAIT)).isEqualTo(c);
    }
    assertThat(gen.hasNext()).isFalse();
    assertThatThrownBy(gen::next).isInstanceOf(NoSuchElementException.class);
    assertThat(gen.completed().get(WAIT)).isNull();
  }

  // ------------------------------------------------------------------ tests

  @ParameterizedTest(name = "backpressure {0}")
  @ValueSource(ints = {1, 4})
  void iteratorProducerNeverRunsMoreThanNItemsAheadOfConsumption(int n, @TempDir Path dir) {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(GeneratorBackpressureTest::recorded, dir.toString(), ITEMS)
            .options(backpressure(n))
            .remote()) {
      consumeCheckingTheBound(gen, dir, n, false);
    }
  }

  @ParameterizedTest(name = "backpressure {0}")
  @ValueSource(ints = {1, 4})
  void publisherIsAskedForAndEmitsAtMostNItemsAheadOfConsumption(int n, @TempDir Path dir) {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.asyncGenerator(GeneratorBackpressureTest::recordedPublisher, dir.toString(), ITEMS)
            .options(backpressure(n))
            .remote()) {
      consumeCheckingTheBound(gen, dir, n, true);
    }
  }

  @Test
  void withoutBackpressureTheProducerRunsToTheEndWithNothingConsumed(@TempDir Path dir) {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(GeneratorBackpressureTest::recorded, dir.toString(), ITEMS).remote()) {
      assertThat(gen.completed().get(WAIT)).isNull();
      assertThat(exists(dir, "yielded-" + (ITEMS - 1))).isTrue();
      for (int k = 0; k < ITEMS; k++) {
        assertThat(gen.next().get(WAIT)).isEqualTo(k);
      }
      assertThat(gen.hasNext()).isFalse();
    }
  }

  @Test
  void backpressureOfZeroOrBelowMinusOneIsRejectedByTheOptionsBuilder() {
    assertThatThrownBy(() -> TaskOptions.builder().generatorBackpressureNumObjects(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("generatorBackpressureNumObjects");
    assertThatThrownBy(() -> TaskOptions.builder().generatorBackpressureNumObjects(-2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("generatorBackpressureNumObjects");
    assertThat(
            TaskOptions.builder()
                .generatorBackpressureNumObjects(-1)
                .build()
                .generatorBackpressureNumObjects())
        .isEqualTo(-1);
    assertThat(
            TaskOptions.builder()
                .generatorBackpressureNumObjects(1)
                .build()
                .generatorBackpressureNumObjects())
        .isEqualTo(1);
  }
}
