package dev.sluice.runtime.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CPU-lending rule with fake tasks (no JVMs): one task runs at a time; when every running task
 * is blocked the next queued one starts; the CPU is lent only when nothing is left to start, and
 * taken back when a task runs again.
 */
class ExecutionSlotsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  /** A fake task: records its start and runs until released. */
  private final class Fake {
    final String name;
    final CountDownLatch release = new CountDownLatch(1);

    Fake(String name) {
      this.name = name;
    }
  }

  private final List<String> started = new CopyOnWriteArrayList<>();
  private final List<Boolean> lendNotices = new CopyOnWriteArrayList<>();
  private final ConcurrentHashMap<String, Boolean> finished = new ConcurrentHashMap<>();
  private final ExecutionSlots<Fake> slots =
      new ExecutionSlots<>(
          f -> {
            started.add(f.name);
            try {
              f.release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            finished.put(f.name, true);
          },
          lendNotices::add);

  @BeforeEach
  void start() {
    slots.start();
  }

  @AfterEach
  void stop() {
    slots.stop();
  }

  @Test
  void tasksRunOneAtATimeInArrivalOrder() {
    Fake a = new Fake("a");
    Fake b = new Fake("b");
    slots.add(a);
    slots.add(b);
    await().atMost(WAIT).until(() -> started.contains("a"));
    assertThat(started).containsExactly("a");
    a.release.countDown();
    await().atMost(WAIT).until(() -> started.contains("b"));
    b.release.countDown();
    await().atMost(WAIT).until(slots::isIdle);
    assertThat(started).containsExactly("a", "b");
    assertThat(lendNotices).as("never all blocked: nothing lent").isEmpty();
  }

  @Test
  void whenTheRunningTaskBlocksTheNextQueuedOneStartsAndNothingIsLent() {
    Fake a = new Fake("a");
    Fake b = new Fake("b");
    slots.add(a);
    slots.add(b);
    await().atMost(WAIT).until(() -> started.contains("a"));
    slots.blocked(a, true);
    await().atMost(WAIT).until(() -> started.contains("b"));
    assertThat(lendNotices).as("b uses the CPU a left").isEmpty();
    b.release.countDown();
    await().atMost(WAIT).until(() -> finished.containsKey("b"));
    // a is still blocked and nothing is queued: the CPU is lent now.
    await().atMost(WAIT).until(() -> lendNotices.equals(List.of(true)));
    slots.blocked(a, false);
    await().atMost(WAIT).until(() -> lendNotices.equals(List.of(true, false)));
    a.release.countDown();
    await().atMost(WAIT).until(slots::isIdle);
  }

  @Test
  void onlyAnUnbrokenBlockOfTheLendDelayLendsTheCpuNotManyShortPauses() {
    AtomicLong now = new AtomicLong();
    List<Boolean> notices = new CopyOnWriteArrayList<>();
    ExecutionSlots<Fake> paused =
        new ExecutionSlots<>(
            f -> {
              try {
                f.release.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            notices::add,
            now::get);
    paused.start();
    try {
      Fake producer = new Fake("producer");
      paused.add(producer);
      await().atMost(WAIT).until(() -> paused.running().contains(producer));
      // A producer pausing for credit again and again: each pause far shorter than the delay.
      long step = ExecutionSlots.LEND_DELAY.toNanos() / 10;
      for (int i = 0; i < 30; i++) {
        paused.blocked(producer, true);
        now.addAndGet(step);
        paused.blocked(producer, false);
      }
      paused.blocked(producer, true);
      await("no lend while the pauses are short")
          .during(ExecutionSlots.LEND_DELAY.multipliedBy(3))
          .atMost(WAIT)
          .until(notices::isEmpty);
      now.addAndGet(ExecutionSlots.LEND_DELAY.toNanos());
      await().atMost(WAIT).until(() -> notices.equals(List.of(true)));
      paused.blocked(producer, false);
      await().atMost(WAIT).until(() -> notices.equals(List.of(true, false)));
      producer.release.countDown();
      await().atMost(WAIT).until(paused::isIdle);
    } finally {
      paused.stop();
    }
  }

  @Test
  void nestedBlockingCountsOnceAndATaskArrivingWhileAllAreBlockedStartsAtOnce() {
    Fake a = new Fake("a");
    slots.add(a);
    await().atMost(WAIT).until(() -> started.contains("a"));
    slots.blocked(a, true);
    slots.blocked(a, true);
    await().atMost(WAIT).until(() -> lendNotices.equals(List.of(true)));
    slots.blocked(a, false);
    assertThat(slots.running()).containsExactly(a);
    Fake c = new Fake("c");
    slots.add(c);
    await().atMost(WAIT).until(() -> started.contains("c"));
    // c runs on the lent CPU: the node is told the worker runs again.
    await().atMost(WAIT).until(() -> lendNotices.equals(List.of(true, false)));
    c.release.countDown();
    await().atMost(WAIT).until(() -> finished.containsKey("c"));
    await().atMost(WAIT).until(() -> lendNotices.equals(List.of(true, false, true)));
    slots.blocked(a, false);
    await().atMost(WAIT).until(() -> lendNotices.equals(List.of(true, false, true, false)));
    a.release.countDown();
    await().atMost(WAIT).until(slots::isIdle);
  }

  @Test
  void queuedTasksCanBeTakenBackBeforeTheyStart() {
    Fake a = new Fake("a");
    Fake b = new Fake("b");
    Fake c = new Fake("c");
    slots.add(a);
    slots.add(b);
    slots.add(c);
    await().atMost(WAIT).until(() -> started.contains("a"));
    assertThat(slots.remove(f -> f != c)).containsExactly(b);
    assertThat(slots.peekQueued()).isSameAs(c);
    a.release.countDown();
    c.release.countDown();
    await().atMost(WAIT).until(slots::isIdle);
    assertThat(started).containsExactly("a", "c");
  }
}
