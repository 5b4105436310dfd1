package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.JobId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.rpc.proto.Address;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/** The waiting side of a stream, driven as {@link ObjectRefStream} drives it: under its lock. */
class StreamWaitersTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(7)), 1);

  private final ReentrantLock lock = new ReentrantLock();
  private final StreamWaiters waiters = new StreamWaiters(lock);

  private static ObjectRefImpl<?> ref(int index) {
    return new ObjectRefImpl<>(ObjectId.of(TASK, index), Address.getDefaultInstance());
  }

  @Test
  void asyncConsumersAreServedOldestFirstAndCompleteOnlyInTheAfterActions() {
    List<Runnable> after = new ArrayList<>();
    CompletableFuture<ObjectRefImpl<?>> first;
    CompletableFuture<ObjectRefImpl<?>> second;
    ObjectRefImpl<?> item = ref(2);
    lock.lock();
    try {
      first = waiters.addAsyncConsumer();
      second = waiters.addAsyncConsumer();
      waiters.serve(item, after);
      assertThat(first).as("completed only once the lock is released").isNotDone();
      assertThat(waiters.hasAsyncConsumer()).isTrue();
    } finally {
      lock.unlock();
    }
    after.forEach(Runnable::run);
    assertThat(first).isCompletedWithValue(item);
    assertThat(second).isNotDone();

    List<Runnable> atEnd = new ArrayList<>();
    lock.lock();
    try {
      waiters.serve(null, atEnd);
      assertThat(waiters.hasAsyncConsumer()).isFalse();
    } finally {
      lock.unlock();
    }
    atEnd.forEach(Runnable::run);
    assertThat(second).as("null marks the end").isCompletedWithValue(null);
  }

  @Test
  void readyWatchersCompleteOnceAndALaterWatcherWaitsForTheNextReady() {
    List<Runnable> after = new ArrayList<>();
    CompletableFuture<Void> a;
    CompletableFuture<Void> b;
    CompletableFuture<Void> later;
    List<Runnable> none = new ArrayList<>();
    lock.lock();
    try {
      a = waiters.addReadyWatcher();
      b = waiters.addReadyWatcher();
      waiters.ready(after);
      assertThat(a).as("completed only once the lock is released").isNotDone();
      assertThat(waiters.hasReadyWatcher()).isFalse();
      later = waiters.addReadyWatcher();
    } finally {
      lock.unlock();
    }
    after.forEach(Runnable::run);
    assertThat(a).isDone();
    assertThat(b).isDone();
    assertThat(later).as("added after the news: waits for the next").isNotDone();

    lock.lock();
    try {
      waiters.ready(none);
    } finally {
      lock.unlock();
    }
    none.forEach(Runnable::run);
    assertThat(later).isDone();
  }

  @Test
  void aTimedWaitWithoutASignalRunsOutItsTime() throws Exception {
    long timeout = TimeUnit.MILLISECONDS.toNanos(20);
    long start = System.nanoTime();
    long left;
    lock.lock();
    try {
      left = waiters.awaitChangeNanos(timeout);
    } finally {
      lock.unlock();
    }
    assertThat(left).isLessThanOrEqualTo(0);
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(timeout);
  }

  @Test
  void aSignalWakesABlockedConsumerAndASpinReturnsEachHoldingTheLockAgain() throws Exception {
    for (boolean spin : new boolean[] {false, true}) {
      CountDownLatch waiting = new CountDownLatch(1);
      CompletableFuture<Boolean> woke = new CompletableFuture<>();
      Thread consumer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    lock.lock();
                    try {
                      waiting.countDown();
                      if (spin) {
                        waiters.spinForChange(-1, null);
                      } else {
                        waiters.awaitChange();
                      }
                      woke.complete(lock.isHeldByCurrentThread());
                    } catch (Throwable e) {
                      woke.completeExceptionally(e);
                    } finally {
                      lock.unlock();
                    }
                  });
      waiting.await();
      lock.lock(); // only possible while the consumer waits: it released the lock
      try {
        waiters.signal();
      } finally {
        lock.unlock();
      }
      assertThat(woke.get(10, TimeUnit.SECONDS)).as("holds the lock again").isTrue();
      consumer.join();
    }
  }
}
