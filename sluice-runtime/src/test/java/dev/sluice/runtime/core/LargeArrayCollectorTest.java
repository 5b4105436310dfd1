package dev.sluice.runtime.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * When the runtime asks its JVM for a collection after large arrays passed through the store (issue
 * 14, large items): once per budget of large arrays, never for small ones, one at a time.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class LargeArrayCollectorTest {
  private static final long MIB = 1 << 20;

  @Test
  void collectsOnceEveryBudgetOfLargeArrays() throws InterruptedException {
    AtomicInteger collections = new AtomicInteger();
    CountDownLatch first = new CountDownLatch(1);
    LargeArrayCollector c =
        new LargeArrayCollector(
            256 * MIB,
            () -> {
              collections.incrementAndGet();
              first.countDown();
            });

    for (int i = 0; i < 3; i++) {
      c.passed(64 * MIB);
    }
    assertThat(collections.get()).as("before the budget is spent").isZero();
    c.passed(64 * MIB);

    assertThat(first.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(collections.get()).isEqualTo(1);
  }

  @Test
  void smallArraysDoNotCount() {
    AtomicInteger collections = new AtomicInteger();
    LargeArrayCollector c = new LargeArrayCollector(4 * MIB, collections::incrementAndGet);

    for (int i = 0; i < 10_000; i++) {
      c.passed(LargeArrayCollector.LARGE_BYTES - 1);
    }

    assertThat(collections.get()).isZero();
  }

  @Test
  void oneCollectionAtATime() throws InterruptedException {
    AtomicInteger collections = new AtomicInteger();
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    LargeArrayCollector c =
        new LargeArrayCollector(
            2 * MIB,
            () -> {
              collections.incrementAndGet();
              started.countDown();
              try {
                finish.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });

    c.passed(2 * MIB);
    assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
    for (int i = 0; i < 10; i++) {
      c.passed(2 * MIB); // the budget is spent again and again while the first one runs
    }
    assertThat(collections.get()).isEqualTo(1);
    finish.countDown();
  }

  @Test
  void withoutAConcurrentCollectionItNeverCollects() {
    LargeArrayCollector c = new LargeArrayCollector(MIB, null);

    c.passed(1L << 30);

    assertThat(c.enabled()).isFalse();
  }

  @Test
  void inAJvmWhoseSystemGcIsFullItIsOff() {
    // This test JVM runs with the JVM's defaults: System.gc() is a full collection.
    assertThat(LargeArrayCollector.explicitGcIsConcurrent()).isFalse();
    assertThat(LargeArrayCollector.forThisJvm().enabled()).isFalse();
  }
}
