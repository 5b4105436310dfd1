package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.state.TaskEventSampling;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The TaskEventSampling rule on a real embedded cluster: a driver that records few attempts a
 * second lists a burst's worth of a large batch, counts the rest as dropped, and still lists a
 * failure.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TaskEventSamplingClusterTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int PER_SECOND = 2;

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(
        SluiceConfig.builder().numCpus(2).taskEventsPerSecond(PER_SECOND).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  static int twice(int a) {
    return 2 * a;
  }

  static int boom(int a) {
    throw new IllegalStateException("boom " + a);
  }

  /**
   * Rule TaskEventSampling: beyond the burst, attempts are counted as dropped, not recorded; a
   * failure is recorded all the same.
   */
  @Test
  void beyondTheBurstAttemptsAreCountedAndFailuresStillRecorded() {
    long t0 = System.nanoTime();
    int n = 200;
    List<ObjectRef<Integer>> refs =
        IntStream.range(0, n)
            .mapToObj(i -> Sluice.task(TaskEventSamplingClusterTest::twice, i).remote())
            .toList();
    refs.forEach(ObjectRef::get);
    ObjectRef<Integer> failed =
        Sluice.task(TaskEventSamplingClusterTest::boom, 7)
            .options(TaskOptions.builder().maxRetries(0).build())
            .remote();
    assertThatThrownBy(failed::get).isInstanceOf(TaskException.class);
    double seconds = (System.nanoTime() - t0) / 1e9;
    // What the bucket can have admitted: the burst, plus what refilled while the tasks ran.
    long admissible =
        (long) PER_SECOND * TaskEventSampling.BURST_SECONDS
            + (long) Math.ceil(seconds * PER_SECOND)
            + 1;

    ClusterState state = Sluice.state();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              TaskSummary s = state.summarizeTasks();
              assertThat(s.count("TaskEventSamplingClusterTest.boom", TaskStatus.FAILED))
                  .isEqualTo(1);
              long recorded = s.count("TaskEventSamplingClusterTest.twice", TaskStatus.FINISHED);
              assertThat(recorded)
                  .isBetween((long) PER_SECOND * TaskEventSampling.BURST_SECONDS, admissible);
              assertThat(s.droppedEvents()).isGreaterThanOrEqualTo(n - recorded);
            });
    TaskState boom =
        state.tasks(StateQuery.all().filter("task_id", failed.id().taskId().hex())).getFirst();
    assertThat(boom.state()).isEqualTo(TaskStatus.FAILED);
    assertThat(boom.errorType()).isNotEmpty();
    // Every attempt listed finished as one row: none was recorded only in part.
    assertThat(
            state.tasks(
                StateQuery.all().filter("function_name", "TaskEventSamplingClusterTest.twice")))
        .allSatisfy(t -> assertThat(t.state()).isEqualTo(TaskStatus.FINISHED));
  }
}
