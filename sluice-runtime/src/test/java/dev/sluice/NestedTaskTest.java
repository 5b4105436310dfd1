package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nested tasks and the work-helping rule (DESIGN "Nested tasks"): a task blocked in {@code get} on
 * a child that is still queued in its own process runs the child itself; everything else about the
 * child stays as if a worker had run it.
 *
 * <p>One CPU: the parent holds it, so no other worker can be leased for the child before the parent
 * blocks, and "ran inline" is deterministic.
 */
class NestedTaskTest {
  private static final int EXTRA_WORKERS = 2;

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(
        SluiceConfig.builder().numCpus(1).maxExtraWorkers(EXTRA_WORKERS).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  /** Where a task ran: its own task id, attempt, worker and process. */
  record Ran(TaskId taskId, int attempt, WorkerId worker, long pid, long thread)
      implements java.io.Serializable {
    static Ran here() {
      RuntimeContext ctx = Sluice.runtimeContext();
      return new Ran(
          ctx.taskId(),
          ctx.attemptNumber(),
          ctx.workerId(),
          ProcessHandle.current().pid(),
          Thread.currentThread().threadId());
    }
  }

  static Ran whereAmI() {
    return Ran.here();
  }

  static List<Object> parentAndChild() {
    ObjectRef<Ran> child = Sluice.task(NestedTaskTest::whereAmI).remote();
    Ran childRan = child.get();
    return List.of(Ran.here(), childRan, child.id().taskId());
  }

  @Test
  void aQueuedChildRunsInsideItsBlockedParentAsItsOwnTask() {
    List<Object> r = Sluice.task(NestedTaskTest::parentAndChild).remote().get();
    Ran parent = (Ran) r.get(0);
    Ran child = (Ran) r.get(1);
    assertThat(child.pid()).as("the child ran in its parent's process").isEqualTo(parent.pid());
    assertThat(child.thread()).as("on its parent's thread").isEqualTo(parent.thread());
    assertThat(child.taskId())
        .as("runtimeContext() names the child's own task")
        .isEqualTo(r.get(2))
        .isNotEqualTo(parent.taskId());
    assertThat(child.attempt()).isZero();
  }

  static Ran needsResource() {
    return Ran.here();
  }

  static List<Ran> parentOfResourceChild() {
    Ran child =
        Sluice.task(NestedTaskTest::needsResource)
            .options(TaskOptions.builder().numCpus(0).resources(Map.of("slot", 1.0)).build())
            .remote()
            .get();
    return List.of(Ran.here(), child);
  }

  @Test
  void aChildNeedingACustomResourceIsLeasedAsUsualNotRunInline() {
    SluiceTestSupport.stopAndAssertNoWorkers();
    Sluice.init(
        SluiceConfig.builder()
            .numCpus(1)
            .maxExtraWorkers(EXTRA_WORKERS)
            .resources(Map.of("slot", 1.0))
            .build());
    try {
      List<Ran> r = Sluice.task(NestedTaskTest::parentOfResourceChild).remote().get();
      // Leased as usual, in a worker JVM of its own or (at the worker bound) on a task thread of
      // its own in its blocked parent's JVM; never inline on the parent's thread.
      Ran parent = r.get(0);
      Ran child = r.get(1);
      assertThat(child.pid() == parent.pid() && child.thread() == parent.thread())
          .as("ran inline on its parent's thread")
          .isFalse();
    } finally {
      SluiceTestSupport.stopAndAssertNoWorkers();
      startCluster();
    }
  }

  static int flaky(String marker) throws Exception {
    Path m = Path.of(marker);
    if (!Files.exists(m)) {
      Files.writeString(m, "failed once");
      throw new IllegalStateException("first attempt fails");
    }
    return Sluice.runtimeContext().attemptNumber();
  }

  static int parentOfFlakyChild(String marker) {
    return Sluice.task(NestedTaskTest::flaky, marker)
        .options(TaskOptions.builder().maxRetries(2).retryExceptions(true).build())
        .remote()
        .get();
  }

  @Test
  void anInlineChildIsRetriedWithItsNextAttemptNumber(@TempDir Path dir) {
    int attempt =
        Sluice.task(NestedTaskTest::parentOfFlakyChild, dir.resolve("flaky").toString())
            .remote()
            .get();
    assertThat(attempt).isEqualTo(1);
  }

  static String sleepUntilCancelled(String started) throws InterruptedException {
    SluiceTestSupport.touch(started);
    Thread.sleep(Duration.ofMinutes(5));
    return "not cancelled";
  }

  static String cancelInlineChild(String started) throws Exception {
    ObjectRef<String> child =
        Sluice.task(NestedTaskTest::sleepUntilCancelled, started)
            .options(TaskOptions.builder().maxRetries(0).build())
            .remote();
    Thread canceller =
        Thread.ofPlatform()
            .start(
                () -> {
                  await()
                      .atMost(Duration.ofSeconds(60))
                      .until(() -> Files.exists(Path.of(started)));
                  Sluice.cancel(child);
                });
    String outcome;
    try {
      outcome = child.get();
    } catch (TaskCancelledException e) {
      outcome = "child cancelled";
    }
    canceller.join();
    // The parent was not cancelled: it keeps running and can still block on another child.
    return outcome
        + ", parent interrupted: "
        + Thread.currentThread().isInterrupted()
        + ", next child: "
        + Sluice.task(NestedTaskTest::whereAmI).remote().get().attempt();
  }

  @Test
  void cancellingAnInlineChildEndsItAndNotItsParent(@TempDir Path dir) {
    String r =
        Sluice.task(NestedTaskTest::cancelInlineChild, dir.resolve("started").toString())
            .remote()
            .get(Duration.ofSeconds(90));
    assertThat(r).isEqualTo("child cancelled, parent interrupted: false, next child: 0");
  }

  static long fib(int n) {
    if (n < 2) {
      return n;
    }
    ObjectRef<Long> a = Sluice.task(NestedTaskTest::fib, n - 1).remote();
    ObjectRef<Long> b = Sluice.task(NestedTaskTest::fib, n - 2).remote();
    return a.get() + b.get();
  }

  @Test
  void recursiveTasksFinishWithinTheWorkerBound() throws Exception {
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger most = new AtomicInteger();
    Thread sampler =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  while (!done.get()) {
                    most.accumulateAndGet(SluiceTestSupport.workerPids().size(), Math::max);
                    Thread.onSpinWait();
                  }
                });
    try {
      assertThat(Sluice.task(NestedTaskTest::fib, 12).remote().get(Duration.ofSeconds(120)))
          .isEqualTo(144L);
    } finally {
      done.set(true);
      sampler.join();
    }
    assertThat(most.get())
        .as("worker JVMs at most numCpus + maxExtraWorkers")
        .isLessThanOrEqualTo(1 + EXTRA_WORKERS);
  }

  static long failingChild() {
    throw new IllegalArgumentException("bad input");
  }

  static long parentOfFailingChild() {
    return Sluice.task(NestedTaskTest::failingChild)
        .options(TaskOptions.builder().maxRetries(0).build())
        .remote()
        .get();
  }

  @Test
  void anInlineChildsFailureReachesItsParentAsATaskException() {
    assertThatThrownBy(() -> Sluice.task(NestedTaskTest::parentOfFailingChild).remote().get())
        .isInstanceOf(TaskException.class)
        .hasMessageContaining("failingChild")
        .hasMessageContaining("bad input");
  }
}
