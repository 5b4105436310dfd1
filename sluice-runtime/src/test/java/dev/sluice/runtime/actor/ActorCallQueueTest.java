package dev.sluice.runtime.actor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.JobId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The actor call order rule and the actor's concurrency limit, with fake calls (no JVMs, no RPC):
 * per caller by sequence number with early arrivals held, one call at a time (or up to n), permits
 * held by async calls without threads, and every call answered exactly once (started or rejected).
 */
class ActorCallQueueTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final AtomicLong TASK_COUNTER = new AtomicLong();
  private static final TaskId PARENT = TaskId.forDriver(JobId.of(7));

  private final WorkerId callerA = WorkerId.random();
  private final WorkerId callerB = WorkerId.random();
  private final List<ExecutorService> runners = new ArrayList<>();

  /** Start order of every fake call made by this test, by name. */
  private final List<String> started = new CopyOnWriteArrayList<>();

  /** Calls started and not finished, and the most seen at once. */
  private final AtomicInteger active = new AtomicInteger();

  private final AtomicInteger maxActive = new AtomicInteger();

  /**
   * A fake call. Sync: runs until released (or at once if made released). Async: returns a stage
   * completed by the test. Records its start and its rejection.
   */
  private class Fake implements ActorCallQueue.Call {
    final String name;
    final TaskId id;
    final CountDownLatch release = new CountDownLatch(1);
    final CompletableFuture<Void> stage;
    final CountDownLatch finished = new CountDownLatch(1);
    final AtomicInteger starts = new AtomicInteger();
    final List<CallRejection> rejections = new CopyOnWriteArrayList<>();

    Fake(String name, boolean async) {
      this(name, async, TaskId.forChild(PARENT, TASK_COUNTER.incrementAndGet()));
    }

    Fake(String name, boolean async, TaskId id) {
      this.name = name;
      this.id = id;
      this.stage = async ? new CompletableFuture<>() : null;
    }

    Fake released() {
      release.countDown();
      return this;
    }

    @Override
    public TaskId taskId() {
      return id;
    }

    @Override
    public CompletionStage<?> start() {
      starts.incrementAndGet();
      started.add(name);
      int now = active.incrementAndGet();
      maxActive.accumulateAndGet(now, Math::max);
      if (stage != null) {
        return stage.whenComplete((v, t) -> end());
      }
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      end();
      return CompletableFuture.completedFuture(null);
    }

    private void end() {
      active.decrementAndGet();
      finished.countDown();
    }

    @Override
    public void rejected(CallRejection rejection) {
      rejections.add(rejection);
    }

    boolean hasFinished() {
      return finished.getCount() == 0;
    }

    CallRejection.Reason rejectedAs() {
      assertThat(rejections).as("%s rejected once", name).hasSize(1);
      return rejections.get(0).reason();
    }
  }

  /** Waits for a condition, polling every millisecond (these tests take milliseconds). */
  private static ConditionFactory soon() {
    return Awaitility.await()
        .atMost(WAIT)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(1));
  }

  private Fake sync(String name) {
    return new Fake(name, false);
  }

  private Fake quick(String name) {
    return new Fake(name, false).released();
  }

  private Fake async(String name) {
    return new Fake(name, true);
  }

  private ActorCallQueue queue(int maxConcurrency) {
    ExecutorService runner = Executors.newVirtualThreadPerTaskExecutor();
    runners.add(runner);
    return ActorCallQueue.forActor(maxConcurrency, runner);
  }

  @AfterEach
  void stopRunners() throws InterruptedException {
    for (ExecutorService r : runners) {
      r.shutdownNow();
      assertThat(r.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void earlyArrivalIsHeldUntilItsTurn() {
    ActorCallQueue q = queue(1);
    Fake a1 = quick("a1");
    q.offer(callerA, 1, 0, a1);
    assertThat(q.queuedCount()).as("a1 held: a0 has not arrived").isEqualTo(1);
    assertThat(q.runningCount()).isZero();
    Fake a0 = sync("a0");
    q.offer(callerA, 0, 0, a0);
    soon().until(() -> started.contains("a0"));
    assertThat(q.queuedCount()).as("a1 released, waiting for a0's permit").isEqualTo(1);
    assertThat(started).containsExactly("a0");
    a0.release.countDown();
    soon().until(a1::hasFinished);
    assertThat(started).containsExactly("a0", "a1");
    assertThat(q.queuedCount()).isZero();
  }

  @Test
  void callsOfOneCallerRunInSequenceOrder() {
    ActorCallQueue q = queue(1);
    List<Fake> calls = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      calls.add(quick("a" + i));
    }
    for (int seq : new int[] {3, 1, 5, 4, 0, 2}) {
      q.offer(callerA, seq, 0, calls.get(seq));
    }
    soon().until(() -> calls.stream().allMatch(Fake::hasFinished));
    assertThat(started).containsExactly("a0", "a1", "a2", "a3", "a4", "a5");
  }

  @Test
  void oneCallAtATimeWithMaxConcurrencyOne() {
    ActorCallQueue q = queue(1);
    Fake a0 = sync("a0");
    Fake b0 = sync("b0");
    q.offer(callerA, 0, 0, a0);
    q.offer(callerB, 0, 0, b0);
    soon().until(() -> started.contains("a0"));
    assertThat(q.runningCount()).isEqualTo(1);
    assertThat(q.queuedCount()).as("b0 is runnable but waits for the one permit").isEqualTo(1);
    assertThat(started).containsExactly("a0");
    a0.release.countDown();
    soon().until(() -> started.contains("b0"));
    b0.release.countDown();
    soon().until(b0::hasFinished);
    assertThat(maxActive).hasValue(1);
  }

  @Test
  void callsOfDifferentCallersStartInTheOrderTheyBecameRunnable() {
    ActorCallQueue q = queue(1);
    Fake a0 = sync("a0");
    q.offer(callerA, 0, 0, a0);
    soon().until(() -> started.contains("a0"));
    Fake a2 = quick("a2");
    Fake b0 = quick("b0");
    Fake a1 = quick("a1");
    q.offer(callerA, 2, 0, a2); // held
    q.offer(callerB, 0, 0, b0); // runnable
    q.offer(callerA, 1, 0, a1); // runnable, releases a2 after it
    a0.release.countDown();
    soon().until(a2::hasFinished);
    assertThat(started).containsExactly("a0", "b0", "a1", "a2");
  }

  @Test
  void processedUpToSkipsCallsThatWillNeverArrive() {
    ActorCallQueue q = queue(1);
    Fake a2 = quick("a2");
    q.offer(callerA, 2, 0, a2);
    assertThat(q.queuedCount()).as("held behind 0 and 1").isEqualTo(1);
    q.advance(callerA, 2); // 0 and 1 will never be sent
    soon().until(a2::hasFinished);
    // A later message may start the caller's numbering further on, without any call below it.
    Fake a5 = quick("a5");
    q.offer(callerA, 5, 5, a5);
    soon().until(a5::hasFinished);
    // The first message of a caller sets where its numbering starts.
    Fake b9 = quick("b9");
    q.offer(callerB, 9, 9, b9);
    soon().until(b9::hasFinished);
    assertThat(started).containsExactly("a2", "a5", "b9");
  }

  @Test
  void aNumberAlreadyTakenIsRejectedAsDuplicateAndNeverRunsTwice() {
    ActorCallQueue q = queue(1);
    Fake a0 = quick("a0");
    q.offer(callerA, 0, 0, a0);
    soon().until(a0::hasFinished);
    Fake again = quick("a0-again");
    q.offer(callerA, 0, 0, again);
    Fake a2 = quick("a2");
    q.offer(callerA, 2, 0, a2); // held
    Fake a2again = quick("a2-again");
    q.offer(callerA, 2, 0, a2again);
    Fake sameTask = new Fake("a3-same-task", false, a2.id).released();
    q.offer(callerA, 3, 0, sameTask);
    q.offer(callerA, 1, 0, quick("a1"));
    soon().until(a2::hasFinished);
    assertThat(again.rejectedAs()).isEqualTo(CallRejection.Reason.DUPLICATE);
    assertThat(a2again.rejectedAs()).isEqualTo(CallRejection.Reason.DUPLICATE);
    assertThat(sameTask.rejectedAs()).isEqualTo(CallRejection.Reason.DUPLICATE);
    assertThat(started).containsExactly("a0", "a1", "a2");
  }

  @Test
  void aHeldCallWhoseNumberTheCallerReportsProcessedIsRejectedAsStale() {
    ActorCallQueue q = queue(1);
    Fake a1 = quick("a1");
    q.offer(callerA, 1, 0, a1);
    Fake a3 = quick("a3");
    q.offer(callerA, 3, 0, a3);
    q.advance(callerA, 2); // the caller says 0 and 1 are done: the held a1 is a stale copy
    assertThat(a1.rejectedAs()).isEqualTo(CallRejection.Reason.DUPLICATE);
    assertThat(q.queuedCount()).as("a3 still held behind 2").isEqualTo(1);
    Fake a2 = quick("a2");
    q.offer(callerA, 2, 2, a2);
    soon().until(a3::hasFinished);
    assertThat(started).containsExactly("a2", "a3");
  }

  @Test
  void cancelOfAQueuedCallFreesLaterCalls() {
    ActorCallQueue q = queue(1);
    Fake a2 = quick("a2");
    Fake a1 = quick("a1");
    q.offer(callerA, 2, 0, a2);
    q.offer(callerA, 1, 0, a1);
    assertThat(q.cancel(a1.id)).as("a held call is cancelled").isTrue();
    assertThat(a1.rejectedAs()).isEqualTo(CallRejection.Reason.CANCELLED);
    Fake a0 = sync("a0");
    q.offer(callerA, 0, 0, a0);
    soon().until(() -> started.contains("a0"));
    assertThat(q.cancel(a0.id)).as("a running call is not cancelled here").isFalse();
    Fake b0 = quick("b0");
    q.offer(callerB, 0, 0, b0);
    assertThat(q.cancel(b0.id)).as("a call waiting for a permit is cancelled").isTrue();
    assertThat(q.cancel(TaskId.forChild(PARENT, 1_000_000))).as("unknown").isFalse();
    a0.release.countDown();
    soon().until(a2::hasFinished);
    assertThat(started).as("number 1 skipped: a2 is not stuck").containsExactly("a0", "a2");
    assertThat(b0.rejectedAs()).isEqualTo(CallRejection.Reason.CANCELLED);
    assertThat(q.cancel(a0.id)).as("finished").isFalse();
    assertThat(q.queuedCount()).isZero();
  }

  @Test
  void upToNCallsAtOnceWithMaxConcurrencyN() {
    ActorCallQueue q = queue(3);
    List<Fake> calls = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Fake f = sync("c" + i);
      calls.add(f);
      // Unordered: numbers do not hold calls back, even out of order and from one caller.
      q.offer(i % 2 == 0 ? callerA : callerB, 10 - i, 0, f);
    }
    soon().until(() -> started.size() == 3);
    assertThat(started).containsExactlyInAnyOrder("c0", "c1", "c2");
    assertThat(q.runningCount()).isEqualTo(3);
    assertThat(q.queuedCount()).isEqualTo(2);
    calls.get(1).release.countDown();
    soon().until(() -> started.size() == 4);
    assertThat(started.get(3)).as("the earliest arrival waiting starts next").isEqualTo("c3");
    calls.forEach(f -> f.release.countDown());
    soon().until(() -> calls.stream().allMatch(Fake::hasFinished));
    assertThat(maxActive).hasValue(3);
  }

  @Test
  void inAnUnorderedQueueATakenNumberStillNeverRunsTwice() {
    ActorCallQueue q = queue(4);
    Fake a5 = quick("a5");
    q.offer(callerA, 5, 0, a5);
    soon().until(a5::hasFinished);
    Fake again = quick("a5-again");
    q.offer(callerA, 5, 0, again);
    Fake old = quick("a1-old");
    q.offer(callerA, 1, 3, old); // below what the caller reports processed
    assertThat(again.rejectedAs()).isEqualTo(CallRejection.Reason.DUPLICATE);
    assertThat(old.rejectedAs()).isEqualTo(CallRejection.Reason.DUPLICATE);
    assertThat(started).containsExactly("a5");
  }

  @Test
  void asyncCallsHoldAPermitNotAThread() throws InterruptedException {
    // Two platform threads serve 1000 pending async calls: none holds a thread while pending.
    ExecutorService twoThreads = Executors.newFixedThreadPool(2);
    runners.add(twoThreads);
    ActorCallQueue q = ActorCallQueue.forActor(1000, twoThreads);
    List<Fake> calls = new ArrayList<>();
    for (int i = 0; i < 1001; i++) {
      Fake f = async("c" + i);
      calls.add(f);
      q.offer(i % 2 == 0 ? callerA : callerB, i, 0, f);
    }
    soon().until(() -> started.size() == 1000);
    assertThat(q.runningCount()).isEqualTo(1000);
    assertThat(q.queuedCount()).as("the 1001st waits for a permit").isEqualTo(1);
    calls.get(0).stage.complete(null);
    soon().until(() -> started.contains("c1000"));
    calls.forEach(f -> f.stage.complete(null));
    soon().until(() -> q.runningCount() == 0);
    assertThat(maxActive).hasValue(1000);
  }

  @Test
  void anAsyncCallKeepsItsPermitUntilItsStageCompletes() {
    ActorCallQueue q = queue(1);
    Fake a0 = async("a0");
    Fake a1 = quick("a1");
    q.offer(callerA, 0, 0, a0);
    q.offer(callerA, 1, 0, a1);
    soon().until(() -> started.contains("a0"));
    assertThat(q.runningCount()).as("start returned; its stage is pending").isEqualTo(1);
    assertThat(q.queuedCount()).isEqualTo(1);
    assertThat(q.isRunning(a0.id)).isTrue();
    a0.stage.complete(null);
    soon().until(a1::hasFinished);
    assertThat(started).containsExactly("a0", "a1");
  }

  @Test
  void aCallWhoseStartThrowsReleasesItsPermit() {
    ActorCallQueue q = queue(1);
    Fake bad =
        new Fake("bad", false) {
          @Override
          public CompletionStage<?> start() {
            started.add(name);
            throw new IllegalStateException("boom");
          }
        };
    Fake next = quick("next");
    q.offer(callerA, 0, 0, bad);
    q.offer(callerA, 1, 0, next);
    soon().until(next::hasFinished);
    assertThat(started).containsExactly("bad", "next");
  }

  @Test
  void callerGoneDropsOnlyItsCalls() {
    ActorCallQueue q = queue(1);
    Fake a0 = sync("a0");
    Fake a1 = quick("a1");
    Fake b0 = quick("b0");
    Fake a3 = quick("a3");
    q.offer(callerA, 0, 0, a0);
    soon().until(() -> started.contains("a0"));
    q.offer(callerA, 1, 0, a1); // waits for the permit
    q.offer(callerB, 0, 0, b0); // waits for the permit
    q.offer(callerA, 3, 0, a3); // held
    assertThat(q.callerGone(callerA)).isEqualTo(2);
    assertThat(a1.rejectedAs()).isEqualTo(CallRejection.Reason.CALLER_GONE);
    assertThat(a3.rejectedAs()).isEqualTo(CallRejection.Reason.CALLER_GONE);
    assertThat(q.isRunning(a0.id)).as("its running call runs on").isTrue();
    assertThat(q.queuedCount()).isEqualTo(1);
    a0.release.countDown();
    soon().until(b0::hasFinished);
    assertThat(started).containsExactly("a0", "b0");
    assertThat(b0.rejections).isEmpty();
  }

  @Test
  void closeRejectsQueuedCalls() {
    ActorCallQueue q = queue(1);
    Fake a0 = sync("a0");
    Fake a1 = quick("a1");
    Fake b2 = quick("b2");
    q.offer(callerA, 0, 0, a0);
    soon().until(() -> started.contains("a0"));
    q.offer(callerA, 1, 0, a1);
    q.offer(callerB, 2, 0, b2);
    q.close("killed by Sluice.kill");
    assertThat(a1.rejectedAs()).isEqualTo(CallRejection.Reason.CLOSED);
    assertThat(b2.rejectedAs()).isEqualTo(CallRejection.Reason.CLOSED);
    assertThat(a1.rejections.get(0).message())
        .contains("killed by Sluice.kill")
        .contains(a1.id.toString());
    Fake late = quick("late");
    q.offer(callerB, 0, 0, late);
    assertThat(late.rejectedAs()).isEqualTo(CallRejection.Reason.CLOSED);
    assertThat(q.queuedCount()).isZero();
    a0.release.countDown();
    soon().until(() -> q.runningCount() == 0);
    assertThat(started).containsExactly("a0");
  }

  /**
   * Property: for random callers and call counts, with each caller sending its calls in a random
   * order on a thread of its own (some numbers never sent, some resent, some cancelled), every call
   * sent is answered exactly once, each caller's calls run in sequence order, and never two at
   * once.
   */
  @Test
  void shuffledArrivalsRunEachCallersCallsInSequenceOrderOneAtATime() throws Exception {
    for (long seed = 1; seed <= 150; seed++) {
      checkShuffledArrivals(seed);
    }
  }

  /** One caller of the property test: its calls, and which numbers are done in its own view. */
  private final class SimCaller {
    final WorkerId id = WorkerId.random();
    final List<Fake> calls = new ArrayList<>();
    final Set<Integer> neverSent = ConcurrentHashMap.newKeySet();
    final List<Integer> ran = new CopyOnWriteArrayList<>();

    /** Every call below it finished, was cancelled here, or will never be sent. */
    long processedUpTo() {
      int p = 0;
      while (p < calls.size()) {
        Fake f = calls.get(p);
        if (!neverSent.contains(p) && !f.hasFinished() && f.rejections.isEmpty()) {
          break;
        }
        p++;
      }
      return p;
    }
  }

  private void checkShuffledArrivals(long seed) throws Exception {
    Random random = new Random(seed);
    started.clear();
    maxActive.set(0);
    ActorCallQueue q = queue(1);
    int callers = 1 + random.nextInt(4);
    List<SimCaller> sims = new ArrayList<>();
    Map<Fake, Boolean> cancelled = new ConcurrentHashMap<>();
    for (int c = 0; c < callers; c++) {
      SimCaller sim = new SimCaller();
      int n = 1 + random.nextInt(25);
      for (int seq = 0; seq < n; seq++) {
        int s = seq;
        sim.calls.add(
            new Fake("c" + c + "/" + seq, false) {
              @Override
              public CompletionStage<?> start() {
                sim.ran.add(s);
                return super.start();
              }
            }.released());
        if (random.nextInt(10) == 0) {
          sim.neverSent.add(seq);
        }
      }
      sims.add(sim);
    }
    List<Thread> senders = new ArrayList<>();
    for (SimCaller sim : sims) {
      List<Integer> order = new ArrayList<>();
      for (int seq = 0; seq < sim.calls.size(); seq++) {
        if (!sim.neverSent.contains(seq)) {
          order.add(seq);
        }
      }
      Collections.shuffle(order, random);
      long senderSeed = random.nextLong();
      senders.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    Random r = new Random(senderSeed);
                    for (int seq : order) {
                      Fake f = sim.calls.get(seq);
                      q.offer(sim.id, seq, sim.processedUpTo(), f);
                      if (r.nextInt(8) == 0) {
                        // a resent copy of a call already sent
                        q.offer(sim.id, seq, sim.processedUpTo(), quick("resent"));
                      }
                      if (r.nextInt(8) == 0 && q.cancel(f.id)) {
                        cancelled.put(f, true);
                      }
                    }
                  }));
    }
    for (Thread t : senders) {
      t.join();
    }
    // Callers keep reporting their progress (as batches without calls) until all is answered.
    soon()
        .until(
            () -> {
              for (SimCaller sim : sims) {
                q.advance(sim.id, sim.processedUpTo());
              }
              return sims.stream()
                  .allMatch(
                      s -> {
                        for (int seq = 0; seq < s.calls.size(); seq++) {
                          Fake f = s.calls.get(seq);
                          if (!s.neverSent.contains(seq)
                              && !f.hasFinished()
                              && f.rejections.isEmpty()) {
                            return false;
                          }
                        }
                        return true;
                      });
            });
    assertThat(maxActive.get()).as("seed %d: one at a time", seed).isEqualTo(1);
    assertThat(started).as("seed %d: no resent copy ran", seed).doesNotContain("resent");
    for (SimCaller sim : sims) {
      List<Integer> expected = new ArrayList<>();
      for (int seq = 0; seq < sim.calls.size(); seq++) {
        Fake f = sim.calls.get(seq);
        boolean rejected = !f.rejections.isEmpty();
        assertThat(f.starts.get() + f.rejections.size())
            .as("seed %d: %s answered exactly once", seed, f.name)
            .isEqualTo(sim.neverSent.contains(seq) ? 0 : 1);
        if (rejected) {
          assertThat(f.rejectedAs()).isEqualTo(CallRejection.Reason.CANCELLED);
          assertThat(cancelled).containsKey(f);
        } else if (!sim.neverSent.contains(seq)) {
          expected.add(seq);
        }
      }
      assertThat(sim.ran).as("seed %d: run order is sequence order", seed).isEqualTo(expected);
    }
    assertThat(q.runningCount()).isZero();
    assertThat(q.queuedCount()).isZero();
  }
}
