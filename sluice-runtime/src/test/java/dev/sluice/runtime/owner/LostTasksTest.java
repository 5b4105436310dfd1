package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Which of a dead worker's tasks are charged a retry (a retry is charged only to a task that ran).
 */
class LostTasksTest {
  private static TaskSpec task(String id) {
    return TaskSpec.newBuilder().setTaskId(ByteString.copyFromUtf8(id)).build();
  }

  @Test
  void onlyTheFirstInFlightRanWhenTheWorkerReportedNoOtherStart() {
    LostTasks lost = LostTasks.of(List.of(task("a"), task("b"), task("c")), Set.of());
    assertThat(lost.ran()).containsExactly(task("a"));
    assertThat(lost.neverStarted()).containsExactly(task("b"), task("c"));
  }

  @Test
  void tasksReportedStartedBehindABlockedOneAreChargedToo() {
    LostTasks lost =
        LostTasks.of(
            List.of(task("a"), task("b"), task("c")), Set.of(ByteString.copyFromUtf8("c")));
    assertThat(lost.ran()).containsExactly(task("a"), task("c"));
    assertThat(lost.neverStarted()).containsExactly(task("b"));
  }

  @Test
  void nothingInFlightChargesNothing() {
    LostTasks lost = LostTasks.of(List.of(), Set.of());
    assertThat(lost.isEmpty()).isTrue();
    assertThat(lost.size()).isZero();
  }
}
