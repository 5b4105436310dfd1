package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/** Submitting tasks: arities, ref arguments, nested tasks, borrowed refs, ids and leases. */
@Timeout(120)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TaskSubmissionTest {
  private static final Duration LIMIT = Duration.ofSeconds(60);
  private static final int NUM_CPUS = 2;

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(NUM_CPUS).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  // ------------------------------------------------------------------ task functions
  // Each argument is weighted by its position, so a swapped or dropped argument shows.

  static int f0() {
    return 7;
  }

  static int f1(int a) {
    return a;
  }

  static int f2(int a, int b) {
    return a + 10 * b;
  }

  static int f3(int a, int b, int c) {
    return a + 10 * b + 100 * c;
  }

  static int f4(int a, int b, int c, int d) {
    return a + 10 * b + 100 * c + 1_000 * d;
  }

  static int f5(int a, int b, int c, int d, int e) {
    return a + 10 * b + 100 * c + 1_000 * d + 10_000 * e;
  }

  static int f6(int a, int b, int c, int d, int e, int f) {
    return a + 10 * b + 100 * c + 1_000 * d + 10_000 * e + 100_000 * f;
  }

  static String concat3(String a, Integer b, List<String> c) {
    return a + "|" + b + "|" + String.join(",", c);
  }

  static int add(int a, int b) {
    return a + b;
  }

  static int slowValue(int value, long sleepMillis) throws InterruptedException {
    Thread.sleep(sleepMillis);
    return value;
  }

  /** Sum of {@code lo..hi-1}, computed by two sub-tasks per level until single elements. */
  static int treeSum(int lo, int hi) {
    if (hi - lo == 1) {
      return lo;
    }
    int mid = (lo + hi) / 2;
    ObjectRef<Integer> left = Sluice.task(TaskSubmissionTest::treeSum, lo, mid).remote();
    ObjectRef<Integer> right = Sluice.task(TaskSubmissionTest::treeSum, mid, hi).remote();
    return left.get() + right.get();
  }

  static int sumBorrowed(List<ObjectRef<Integer>> refs) {
    int sum = 0;
    for (ObjectRef<Integer> r : refs) {
      sum += r.get();
    }
    return sum;
  }

  /** Passes two borrowed refs on, as arguments of a sub-task, and returns its result. */
  static int addBorrowedInSubTask(List<ObjectRef<Integer>> refs) {
    return Sluice.task(TaskSubmissionTest::add, refs.get(0), refs.get(1)).remote().get();
  }

  static ObjectRef<Integer> putInsideTask(int value) {
    return Sluice.put(value * 3);
  }

  static TaskView whereAmI() {
    RuntimeContext c = Sluice.runtimeContext();
    return new TaskView(
        c.jobId(), c.taskId(), c.attemptNumber(), c.nodeId(), c.workerId(), c.isWorker());
  }

  record TaskView(
      JobId jobId,
      TaskId taskId,
      int attemptNumber,
      NodeId nodeId,
      WorkerId workerId,
      boolean isWorker) {}

  static long pid() {
    return ProcessHandle.current().pid();
  }

  static String sleepMillis(long millis) throws InterruptedException {
    Thread.sleep(millis);
    return "slept " + millis;
  }

  static long square(long x) {
    return x * x;
  }

  // ------------------------------------------------------------------ tests

  @Test
  @Order(1)
  void burstOfTasksOnAColdNodeStartsNoMoreWorkersThanItCanLease() {
    // Runs first, while the prestarted workers are still starting: the lease requests of the
    // burst wait for a worker. Only NUM_CPUS one-CPU leases can ever be granted at once; the node
    // may keep one warm spare beyond them, any further worker process is started for nothing.
    List<ObjectRef<Long>> refs = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      refs.add(Sluice.task(TaskSubmissionTest::pid).remote());
    }
    Sluice.get(refs);

    assertThat(SluiceTestSupport.workerPids()).hasSizeLessThanOrEqualTo(NUM_CPUS + 1);
  }

  @Test
  @Order(2)
  void quickTasksReuseLeasedWorkersInsteadOfStartingOnePerTask() {
    List<ObjectRef<Long>> refs = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      refs.add(Sluice.task(TaskSubmissionTest::pid).remote());
    }
    Set<Long> pids = new HashSet<>(Sluice.get(refs));

    assertThat(pids).hasSizeBetween(1, NUM_CPUS);
    assertThat(pids).doesNotContain(ProcessHandle.current().pid());
    assertThat(SluiceTestSupport.workerPids()).containsAll(pids);
  }

  @Test
  void shortTaskRunsOnTheFreeCpuWhileALongTaskOccupiesTheOther() {
    ObjectRef<String> longTask = Sluice.task(TaskSubmissionTest::sleepMillis, 40_000L).remote();
    try {
      ObjectRef<String> shortTask = Sluice.task(TaskSubmissionTest::sleepMillis, 0L).remote();

      // The node has 2 CPUs and (after the first test) 2 warm workers: the short task must run
      // on the free one, not wait for the long task to end.
      WaitResult<String> r = Sluice.wait(List.of(longTask, shortTask), 1, Duration.ofSeconds(15));

      assertThat(r.ready()).containsExactly(shortTask);
      assertThat(r.unready()).containsExactly(longTask);
    } finally {
      Sluice.cancel(longTask);
      assertThatThrownBy(() -> longTask.get(LIMIT)).isInstanceOf(TaskCancelledException.class);
    }
  }

  @Test
  void everyArityRunsWithPlainValues() {
    assertThat(Sluice.task(TaskSubmissionTest::f0).remote().get(LIMIT)).isEqualTo(7);
    assertThat(Sluice.task(TaskSubmissionTest::f1, 1).remote().get(LIMIT)).isEqualTo(1);
    assertThat(Sluice.task(TaskSubmissionTest::f2, 1, 2).remote().get(LIMIT)).isEqualTo(21);
    assertThat(Sluice.task(TaskSubmissionTest::f3, 1, 2, 3).remote().get(LIMIT)).isEqualTo(321);
    assertThat(Sluice.task(TaskSubmissionTest::f4, 1, 2, 3, 4).remote().get(LIMIT))
        .isEqualTo(4_321);
    assertThat(Sluice.task(TaskSubmissionTest::f5, 1, 2, 3, 4, 5).remote().get(LIMIT))
        .isEqualTo(54_321);
    assertThat(Sluice.task(TaskSubmissionTest::f6, 1, 2, 3, 4, 5, 6).remote().get(LIMIT))
        .isEqualTo(654_321);
  }

  @Test
  void everyArityRunsWithAllArgumentsGivenAsRefs() {
    ObjectRef<Integer> r1 = Sluice.put(1);
    ObjectRef<Integer> r2 = Sluice.put(2);
    ObjectRef<Integer> r3 = Sluice.put(3);
    ObjectRef<Integer> r4 = Sluice.put(4);
    ObjectRef<Integer> r5 = Sluice.put(5);
    ObjectRef<Integer> r6 = Sluice.put(6);

    assertThat(Sluice.task(TaskSubmissionTest::f1, r1).remote().get(LIMIT)).isEqualTo(1);
    assertThat(Sluice.task(TaskSubmissionTest::f2, r1, r2).remote().get(LIMIT)).isEqualTo(21);
    assertThat(Sluice.task(TaskSubmissionTest::f3, r1, r2, r3).remote().get(LIMIT)).isEqualTo(321);
    assertThat(Sluice.task(TaskSubmissionTest::f4, r1, r2, r3, r4).remote().get(LIMIT))
        .isEqualTo(4_321);
    assertThat(Sluice.task(TaskSubmissionTest::f5, r1, r2, r3, r4, r5).remote().get(LIMIT))
        .isEqualTo(54_321);
    assertThat(Sluice.task(TaskSubmissionTest::f6, r1, r2, r3, r4, r5, r6).remote().get(LIMIT))
        .isEqualTo(654_321);
  }

  @Test
  void valuesAndRefsMixFreelyAtAnyPosition() {
    ObjectRef<Integer> r2 = Sluice.put(2);
    ObjectRef<Integer> r4 = Sluice.put(4);
    ObjectRef<Integer> r6 = Sluice.put(6);
    ObjectRef<Integer> r1 = Sluice.put(1);
    ObjectRef<Integer> r3 = Sluice.put(3);
    ObjectRef<Integer> r5 = Sluice.put(5);

    // refs at positions 1, 3, 5 (0-based)
    assertThat(Sluice.task(TaskSubmissionTest::f6, 1, r2, 3, r4, 5, r6).remote().get(LIMIT))
        .isEqualTo(654_321);
    // refs at positions 0, 2, 4
    assertThat(Sluice.task(TaskSubmissionTest::f6, r1, 2, r3, 4, r5, 6).remote().get(LIMIT))
        .isEqualTo(654_321);
    assertThat(Sluice.task(TaskSubmissionTest::f5, 1, 2, r3, 4, r5).remote().get(LIMIT))
        .isEqualTo(54_321);
    assertThat(Sluice.task(TaskSubmissionTest::f4, r1, 2, 3, r4).remote().get(LIMIT))
        .isEqualTo(4_321);
    assertThat(Sluice.task(TaskSubmissionTest::f3, 1, r2, 3).remote().get(LIMIT)).isEqualTo(321);
    assertThat(Sluice.task(TaskSubmissionTest::f2, 1, r2).remote().get(LIMIT)).isEqualTo(21);
    assertThat(Sluice.task(TaskSubmissionTest::f2, r1, 2).remote().get(LIMIT)).isEqualTo(21);
  }

  @Test
  void argumentsOfDifferentTypesArriveIntact() {
    ObjectRef<Integer> b = Sluice.put(42);
    String out =
        Sluice.task(TaskSubmissionTest::concat3, "a", b, List.of("x", "y")).remote().get(LIMIT);
    assertThat(out).isEqualTo("a|42|x,y");
  }

  @Test
  void refArgumentIsResolvedBeforeTheFunctionRuns() {
    // The argument comes from a task still running when the dependent task is submitted.
    ObjectRef<Integer> slow = Sluice.task(TaskSubmissionTest::slowValue, 40, 500L).remote();
    ObjectRef<Integer> sum = Sluice.task(TaskSubmissionTest::add, slow, 2).remote();
    ObjectRef<Integer> chained = Sluice.task(TaskSubmissionTest::add, sum, sum).remote();

    assertThat(chained.get(LIMIT)).isEqualTo(84);
    assertThat(sum.get(LIMIT)).isEqualTo(42);
  }

  @Test
  void taskCanSubmitSubTasksRecursivelyAndCombineTheirResults() {
    // 0+1+...+7 through 3 levels of nested tasks below the root (15 tasks, 7 of which block
    // in get()). With 2 CPUs this only finishes if a worker blocked in get() lends its CPU out.
    ObjectRef<Integer> sum = Sluice.task(TaskSubmissionTest::treeSum, 0, 8).remote();
    assertThat(sum.get(LIMIT)).isEqualTo(IntStream.range(0, 8).sum());
  }

  @Test
  void borrowedRefInsideAListIsResolvedThroughItsOwner() {
    ObjectRef<Integer> put = Sluice.put(5);
    ObjectRef<Integer> computed = Sluice.task(TaskSubmissionTest::slowValue, 7, 200L).remote();
    List<ObjectRef<Integer>> refs = List.of(put, computed);

    ObjectRef<Integer> sum = Sluice.task(TaskSubmissionTest::sumBorrowed, refs).remote();
    assertThat(sum.get(LIMIT)).isEqualTo(12);
  }

  @Test
  void borrowedRefsCanBePassedOnAsArgumentsOfASubTask() {
    ObjectRef<Integer> a = Sluice.put(30);
    ObjectRef<Integer> b = Sluice.task(TaskSubmissionTest::slowValue, 12, 200L).remote();

    ObjectRef<Integer> sum =
        Sluice.task(TaskSubmissionTest::addBorrowedInSubTask, List.of(a, b)).remote();
    assertThat(sum.get(LIMIT)).isEqualTo(42);
  }

  @Test
  void refCreatedInsideATaskCanBeReturnedAndResolvedByTheDriver() {
    ObjectRef<ObjectRef<Integer>> outer =
        Sluice.task(TaskSubmissionTest::putInsideTask, 14).remote();
    ObjectRef<Integer> inner = outer.get(LIMIT);

    assertThat(inner.id().isPut()).isTrue();
    assertThat(inner.id().taskId()).isEqualTo(outer.id().taskId());
    assertThat(inner.get(LIMIT)).isEqualTo(42);
    assertThat(Sluice.task(TaskSubmissionTest::add, inner, 1).remote().get(LIMIT)).isEqualTo(43);
  }

  @Test
  void runtimeContextInTheDriverDescribesTheDriver() {
    RuntimeContext driver = Sluice.runtimeContext();

    assertThat(driver.isWorker()).isFalse();
    assertThat(driver.taskId()).isEqualTo(TaskId.forDriver(driver.jobId()));
    assertThat(driver.taskId().jobId()).isEqualTo(driver.jobId());
    assertThat(driver.attemptNumber()).isZero();
    assertThat(driver.nodeId()).isNotNull();
    assertThat(driver.workerId()).isNotNull();
  }

  @Test
  void runtimeContextInsideATaskDescribesThatTask() {
    RuntimeContext driver = Sluice.runtimeContext();
    ObjectRef<TaskView> ref = Sluice.task(TaskSubmissionTest::whereAmI).remote();
    TaskView inTask = ref.get(LIMIT);

    assertThat(inTask.isWorker()).isTrue();
    assertThat(inTask.taskId()).isEqualTo(ref.id().taskId());
    assertThat(inTask.attemptNumber()).isZero();
    assertThat(inTask.jobId()).isEqualTo(driver.jobId());
    assertThat(inTask.nodeId()).isEqualTo(driver.nodeId());
    assertThat(inTask.workerId()).isNotEqualTo(driver.workerId());
  }

  @Test
  void submittedTaskReturnsARefToItsFirstReturnObjectOwnedByTheDriversJob() {
    JobId job = Sluice.runtimeContext().jobId();
    ObjectRef<Integer> first = Sluice.task(TaskSubmissionTest::f0).remote();
    ObjectRef<Integer> second = Sluice.task(TaskSubmissionTest::f0).remote();

    assertThat(first.id().index()).isEqualTo(1);
    assertThat(second.id().index()).isEqualTo(1);
    assertThat(first.id().isPut()).isFalse();
    assertThat(first.id().taskId()).isNotEqualTo(second.id().taskId());
    assertThat(first.id().taskId().jobId()).isEqualTo(job);
    assertThat(second.id().taskId().jobId()).isEqualTo(job);
    assertThat(first.id().taskId()).isNotEqualTo(TaskId.forDriver(job));
    assertThat(List.of(first.get(LIMIT), second.get(LIMIT))).containsExactly(7, 7);
  }

  @Test
  void putRefBelongsToTheDriverTask() {
    RuntimeContext driver = Sluice.runtimeContext();
    ObjectRef<String> a = Sluice.put("a");
    ObjectRef<String> b = Sluice.put("b");

    assertThat(a.id().isPut()).isTrue();
    assertThat(a.id().taskId()).isEqualTo(driver.taskId());
    assertThat(a.id()).isNotEqualTo(b.id());
  }

  @Test
  void fiveThousandTasksSubmittedAsynchronouslyAllReturnTheirResult() {
    int n = 5_000;
    List<ObjectRef<Long>> refs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      refs.add(Sluice.task(TaskSubmissionTest::square, (long) i).remote());
    }
    List<Long> results = Sluice.get(refs);

    assertThat(results).hasSize(n);
    for (int i = 0; i < n; i++) {
      assertThat(results.get(i)).as("result %d", i).isEqualTo((long) i * i);
    }
  }
}
