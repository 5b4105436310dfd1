package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.example.outside.OutsideRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** How failures reach the caller: application errors, dependencies, serialization, cancel. */
@Timeout(120)
class TaskErrorsTest {
  private static final Duration LIMIT = Duration.ofSeconds(60);
  private static final int NUM_CPUS = 2;

  private final List<ObjectRef<?>> sleepers = new ArrayList<>();

  /** Marker files of this test's tasks; JUnit deletes it after the test. */
  @TempDir Path markers;

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(NUM_CPUS).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  @AfterEach
  void cancelSleepers() {
    sleepers.forEach(Sluice::cancel);
    for (ObjectRef<?> r : sleepers) {
      assertThat(catchThrowable(() -> r.get(LIMIT))).isInstanceOf(TaskCancelledException.class);
    }
  }

  private Path markers() {
    return markers;
  }

  // ------------------------------------------------------------------ task functions

  static int fail(String message) {
    throw new IllegalStateException(message);
  }

  static int failUnserializable(String message) {
    throw new UnserializableException(message);
  }

  /** Cannot be JDK-serialized: it holds a {@link Thread}. */
  static final class UnserializableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @SuppressWarnings("serial")
    private final Thread thread = Thread.currentThread();

    UnserializableException(String message) {
      super(message);
    }

    Thread thread() {
      return thread;
    }
  }

  static int plusOneMarking(int x, String marker) {
    SluiceTestSupport.touch(marker);
    return x + 1;
  }

  static String describe(Object a, Object b) {
    return a + "," + b;
  }

  static OutsideRecord returnOutside() {
    return new OutsideRecord(1);
  }

  /** Marks that it started, sleeps, and marks that it finished (unless interrupted). */
  static String sleepThenMark(String started, long millis, String finished)
      throws InterruptedException {
    SluiceTestSupport.touch(started);
    Thread.sleep(millis);
    SluiceTestSupport.touch(finished);
    return "finished";
  }

  static String mark(String marker) {
    SluiceTestSupport.touch(marker);
    return "ran";
  }

  static int one() {
    return 1;
  }

  /** Starts a task sleeping 2 minutes with {@code options} and waits until it runs. */
  private ObjectRef<String> startSleeper(String name, TaskOptions options) {
    Path started = markers().resolve(name + ".started");
    ObjectRef<String> r =
        Sluice.task(
                TaskErrorsTest::sleepThenMark,
                started.toString(),
                120_000L,
                markers().resolve(name + ".finished").toString())
            .options(options)
            .remote();
    sleepers.add(r);
    await("sleeper " + name + " running").atMost(LIMIT).until(() -> Files.exists(started));
    return r;
  }

  /** Options of a task that occupies every CPU of the node. */
  private static TaskOptions wholeNode() {
    return TaskOptions.builder().numCpus(NUM_CPUS).build();
  }

  // ------------------------------------------------------------------ application errors

  @Test
  void applicationExceptionComesBackAsTaskExceptionCausedByTheOriginal() {
    ObjectRef<Integer> ref = Sluice.task(TaskErrorsTest::fail, "bad input 17").remote();

    Throwable t = catchThrowable(() -> ref.get(LIMIT));

    assertThat(t)
        .isInstanceOf(TaskException.class)
        .hasMessageContaining("TaskErrorsTest.fail")
        .hasMessageContaining(ref.id().taskId().hex());
    assertThat(t.getCause())
        .isExactlyInstanceOf(IllegalStateException.class)
        .hasMessage("bad input 17");
    assertThat(t.getCause().getStackTrace())
        .anySatisfy(e -> assertThat(e.getMethodName()).isEqualTo("fail"));
  }

  @Test
  void exceptionThatCannotBeSerializedComesBackAsRemoteException() {
    ObjectRef<Integer> ref =
        Sluice.task(TaskErrorsTest::failUnserializable, "holds a thread").remote();

    Throwable t = catchThrowable(() -> ref.get(LIMIT));

    assertThat(t)
        .isInstanceOf(TaskException.class)
        .hasMessageContaining("TaskErrorsTest.failUnserializable")
        .hasMessageContaining(ref.id().taskId().hex());
    assertThat(t.getCause())
        .isInstanceOf(RemoteException.class)
        .hasMessageContaining("holds a thread");
    RemoteException remote = (RemoteException) t.getCause();
    assertThat(remote.remoteClassName()).isEqualTo(UnserializableException.class.getName());
    assertThat(remote.remoteStackTrace())
        .contains(UnserializableException.class.getName())
        .contains("failUnserializable");
  }

  @Test
  void taskDependingOnAFailedObjectFailsWithThatErrorWithoutRunning() {
    Path marker = markers().resolve("dependent.ran");
    ObjectRef<Integer> failed = Sluice.task(TaskErrorsTest::fail, "upstream broke").remote();
    ObjectRef<Integer> dependent =
        Sluice.task(TaskErrorsTest::plusOneMarking, failed, marker.toString()).remote();

    Throwable upstream = catchThrowable(() -> failed.get(LIMIT));
    Throwable downstream = catchThrowable(() -> dependent.get(LIMIT));

    assertThat(downstream).isInstanceOf(TaskException.class).hasMessage(upstream.getMessage());
    assertThat(downstream.getCause())
        .isExactlyInstanceOf(IllegalStateException.class)
        .hasMessage("upstream broke");
    assertThat(marker).doesNotExist();
  }

  // ------------------------------------------------------------------ serialization

  @Test
  void unserializableArgumentIsRefusedAtTheCallSiteNamingTheArgument() {
    Path marker = markers().resolve("never.ran");

    assertThatThrownBy(
            () ->
                Sluice.task(TaskErrorsTest::describe, "fine", (Object) Thread.currentThread())
                    .remote())
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("argument 1")
        .hasMessageContaining("java.lang.Thread");
    assertThatThrownBy(
            () ->
                Sluice.task(TaskErrorsTest::describe, (Object) new OutsideRecord(3), "fine")
                    .remote())
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("argument 0")
        .hasMessageContaining(OutsideRecord.class.getName());
    // The refused calls left nothing behind: the next task runs normally.
    assertThat(Sluice.task(TaskErrorsTest::mark, marker.toString()).remote().get(LIMIT))
        .isEqualTo("ran");
  }

  @Test
  void putOfAnUnserializableValueThrowsSerializationException() {
    assertThatThrownBy(() -> Sluice.put(new OutsideRecord(5)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining(OutsideRecord.class.getName());
    assertThatThrownBy(() -> Sluice.put(Thread.currentThread()))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("java.lang.Thread");
  }

  @Test
  void unserializableReturnValueFailsTheTaskWithSerializationException() {
    ObjectRef<OutsideRecord> ref = Sluice.task(TaskErrorsTest::returnOutside).remote();

    assertThatThrownBy(() -> ref.get(LIMIT))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining(OutsideRecord.class.getName());
  }

  // ------------------------------------------------------------------ cancellation

  @Test
  void cancellingARunningTaskInterruptsItAndGetThrowsTaskCancelledException() {
    Path started = markers().resolve("running.started");
    Path finished = markers().resolve("running.finished");
    ObjectRef<String> ref =
        Sluice.task(TaskErrorsTest::sleepThenMark, started.toString(), 30_000L, finished.toString())
            .remote();
    await("task running").atMost(LIMIT).until(() -> Files.exists(started));

    long t0 = System.nanoTime();
    Sluice.cancel(ref);
    Throwable t = catchThrowable(() -> ref.get(LIMIT));
    long elapsedMillis = (System.nanoTime() - t0) / 1_000_000;

    assertThat(t).isInstanceOf(TaskCancelledException.class);
    assertThat(elapsedMillis).isLessThan(10_000L);
    assertThat(finished).doesNotExist();
  }

  @Test
  void cancellingATaskQueuedAtItsOwnerMeansItNeverRuns() {
    // The blocker holds every CPU, so the next task cannot get a worker: it waits at the owner.
    startSleeper("owner-blocker", wholeNode());
    Path marker = markers().resolve("owner-queued.ran");
    ObjectRef<String> queued = Sluice.task(TaskErrorsTest::mark, marker.toString()).remote();
    assertThat(Sluice.wait(List.of(queued), 1, Duration.ZERO).unready()).containsExactly(queued);

    Sluice.cancel(queued);

    assertThat(catchThrowable(() -> queued.get(LIMIT))).isInstanceOf(TaskCancelledException.class);
    freeCpusAndDrain(TaskOptions.defaults());
    assertThat(marker).doesNotExist();
  }

  @Test
  void cancellingATaskQueuedOnAWorkerBehindARunningTaskMeansItNeverRuns() {
    // Same shape as the blocker: it is pipelined to the blocker's worker and queued there.
    startSleeper("worker-blocker", wholeNode());
    Path marker = markers().resolve("worker-queued.ran");
    ObjectRef<String> queued =
        Sluice.task(TaskErrorsTest::mark, marker.toString()).options(wholeNode()).remote();
    assertThat(Sluice.wait(List.of(queued), 1, Duration.ZERO).unready()).containsExactly(queued);

    Sluice.cancel(queued);

    assertThat(catchThrowable(() -> queued.get(LIMIT))).isInstanceOf(TaskCancelledException.class);
    freeCpusAndDrain(wholeNode());
    assertThat(marker).doesNotExist();
  }

  /**
   * Cancels the sleepers, then runs a few tasks of {@code shape} to completion: anything still
   * queued before them (at the owner or on a worker) has run by then.
   */
  private void freeCpusAndDrain(TaskOptions shape) {
    cancelSleepers();
    sleepers.clear();
    List<ObjectRef<Integer>> after = new ArrayList<>();
    for (int i = 0; i < 2 * NUM_CPUS; i++) {
      after.add(Sluice.task(TaskErrorsTest::one).options(shape).remote());
    }
    assertThat(Sluice.get(after)).containsOnly(1);
  }

  @Test
  void cancellingAFinishedTaskLeavesItsValue() {
    ObjectRef<Integer> ref = Sluice.task(TaskErrorsTest::one).remote();
    assertThat(ref.get(LIMIT)).isEqualTo(1);

    Sluice.cancel(ref);

    assertThat(ref.get(LIMIT)).isEqualTo(1);
  }

  // ------------------------------------------------------------------ scheduling

  @Test
  void taskNeedingMoreCpusThanTheNodeHasIsUnschedulable() {
    ObjectRef<Integer> ref =
        Sluice.task(TaskErrorsTest::one)
            .options(TaskOptions.builder().numCpus(64).build())
            .remote();

    assertThatThrownBy(() -> ref.get(LIMIT))
        .isInstanceOf(TaskUnschedulableException.class)
        .hasMessageContaining("CPU");
  }

  @Test
  void taskNeedingAResourceTheClusterLacksIsUnschedulable() {
    ObjectRef<Integer> ref =
        Sluice.task(TaskErrorsTest::one)
            .options(TaskOptions.builder().resources(Map.of("GPU", 1.0)).build())
            .remote();

    assertThatThrownBy(() -> ref.get(LIMIT))
        .isInstanceOf(TaskUnschedulableException.class)
        .hasMessageContaining("GPU");
    // An unschedulable shape does not block other tasks.
    assertThat(Sluice.task(TaskErrorsTest::one).remote().get(LIMIT)).isEqualTo(1);
  }
}
