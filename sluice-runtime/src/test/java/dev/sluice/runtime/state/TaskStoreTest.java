package dev.sluice.runtime.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.StateQuery;
import dev.sluice.TaskState;
import dev.sluice.TaskStatus;
import dev.sluice.runtime.rpc.proto.TaskEvent;
import dev.sluice.runtime.rpc.proto.TaskEventInfo;
import dev.sluice.runtime.rpc.proto.TaskEventState;
import dev.sluice.runtime.rpc.proto.TaskRow;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The control service's task store: merging, eviction, filters and limits. */
class TaskStoreTest {
  private static ByteString id(int i) {
    byte[] b = new byte[16];
    b[15] = (byte) i;
    return ByteString.copyFrom(b);
  }

  private static TaskEvent ev(int task, TaskEventState s, long micros) {
    return TaskEvent.newBuilder()
        .setTaskId(id(task))
        .setState(s)
        .setTimeMicros(micros)
        .setInfo(TaskEventInfo.newBuilder().setFunctionName("F.f" + (task % 2)).setName("n"))
        .build();
  }

  /** Rule: a state only moves forward, whatever order owner and executor events arrive in. */
  @Test
  void stateOnlyMovesForward() {
    TaskStore s = new TaskStore(10);
    s.add(List.of(ev(1, TaskEventState.TASK_FINISHED, 30)), 0);
    s.add(
        List.of(
            ev(1, TaskEventState.TASK_RUNNING, 20),
            ev(1, TaskEventState.TASK_PENDING_ARGS_AVAIL, 10)),
        0);
    TaskState t = StateProtos.task(s.rows().getFirst());
    assertThat(t.state()).isEqualTo(TaskStatus.FINISHED);
    assertThat(t.startedAt()).isNotNull();
    assertThat(t.submittedAt()).isBefore(t.startedAt());
  }

  /** Rule: beyond its cap the store evicts the oldest finished attempts first, and counts them. */
  @Test
  void evictsFinishedFirst() {
    TaskStore s = new TaskStore(3);
    s.add(
        List.of(
            ev(1, TaskEventState.TASK_RUNNING, 1),
            ev(2, TaskEventState.TASK_FINISHED, 2),
            ev(3, TaskEventState.TASK_RUNNING, 3)),
        0);
    s.add(List.of(ev(4, TaskEventState.TASK_RUNNING, 4)), 5);
    List<TaskRow> rows = s.rows();
    assertThat(rows).extracting(TaskRow::getTaskId).containsExactly(id(1), id(3), id(4));
    assertThat(s.droppedEvents()).isEqualTo(6);
  }

  /** Rule: filters match snake-case fields ignoring case, and the limit caps the rows. */
  @Test
  void filtersAndLimit() {
    TaskStore s = new TaskStore(10);
    for (int i = 0; i < 6; i++) {
      s.add(
          List.of(ev(i, i < 4 ? TaskEventState.TASK_FINISHED : TaskEventState.TASK_FAILED, i + 1)),
          0);
    }
    List<TaskState> all = s.rows().stream().map(StateProtos::task).toList();
    assertThat(StateFields.select(all, StateQuery.all().filter("state", "failed"))).hasSize(2);
    assertThat(
            StateFields.select(
                all, StateQuery.all().filter("function_name", "F.f0").filter("state", "FINISHED")))
        .hasSize(2);
    assertThat(StateFields.select(all, StateQuery.all().limit(4))).hasSize(4);
    assertThat(StateFields.select(all, StateQuery.all().filter("nope", "x"))).isEmpty();
  }
}
