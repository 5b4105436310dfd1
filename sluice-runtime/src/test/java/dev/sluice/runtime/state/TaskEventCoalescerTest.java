package dev.sluice.runtime.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.TaskState;
import dev.sluice.TaskStatus;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.FunctionDescriptor;
import dev.sluice.runtime.rpc.proto.TaskEvent;
import dev.sluice.runtime.rpc.proto.TaskEventBatch;
import dev.sluice.runtime.rpc.proto.TaskEventState;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reporter's coalescing of recorded state changes: one event per attempt per message, each task
 * info once per message, and what the control service's store makes of them.
 */
class TaskEventCoalescerTest {
  private static final ByteString NODE = ByteString.copyFromUtf8("node-0000000000a");
  private static final TaskEventInfos INFOS = new TaskEventInfos();
  private static final ByteString WORKER = ByteString.copyFromUtf8("worker-00000000b");

  private static TaskSpec spec(int task, int attempt) {
    byte[] id = new byte[16];
    id[15] = (byte) task;
    return TaskSpec.newBuilder()
        .setTaskId(ByteString.copyFrom(id))
        .setAttemptNumber(attempt)
        .setDisplayName("f")
        .setFunction(
            FunctionDescriptor.newBuilder().setClassName("a.b.Tasks").setMethodName("f").build())
        .build();
  }

  private static TaskEventCoalescer.Recorded rec(TaskSpec s, TaskEventState state, long micros) {
    return rec(s, state, micros, null);
  }

  private static TaskEventCoalescer.Recorded rec(
      TaskSpec s, TaskEventState state, long micros, ErrorInfo error) {
    boolean withInfo =
        state == TaskEventState.TASK_PENDING_ARGS_AVAIL || state == TaskEventState.TASK_FAILED;
    return new TaskEventCoalescer.Recorded(
        s.getTaskId(), s.getAttemptNumber(), state, micros, error, withInfo ? INFOS.of(s) : null);
  }

  /**
   * Rule: the records of one attempt travel as one event with its latest state and the times of the
   * earlier ones, in the order attempts were first recorded.
   */
  @Test
  void oneEventPerAttemptWithItsLatestStateAndEarlierTimes() {
    TaskSpec a = spec(1, 0);
    TaskSpec b = spec(2, 0);
    List<TaskEventCoalescer.Recorded> recs =
        List.of(
            rec(a, TaskEventState.TASK_PENDING_ARGS_AVAIL, 10),
            rec(b, TaskEventState.TASK_PENDING_ARGS_AVAIL, 11),
            rec(a, TaskEventState.TASK_PENDING_NODE_ASSIGNMENT, 12),
            rec(a, TaskEventState.TASK_SUBMITTED_TO_WORKER, 13),
            rec(b, TaskEventState.TASK_PENDING_NODE_ASSIGNMENT, 14),
            rec(a, TaskEventState.TASK_FINISHED, 20));
    List<TaskEventBatch.Builder> batches = new TaskEventCoalescer().batches(recs, 100);
    assertThat(batches).hasSize(1);
    List<TaskEvent> events = batches.getFirst().getEventsList();
    assertThat(events).hasSize(2);
    TaskEvent ea = events.get(0);
    assertThat(ea.getTaskId()).isEqualTo(a.getTaskId());
    assertThat(ea.getState()).isEqualTo(TaskEventState.TASK_FINISHED);
    assertThat(ea.getTimeMicros()).isEqualTo(20);
    assertThat(ea.getSubmittedMicros()).isEqualTo(10);
    assertThat(events.get(1).getState()).isEqualTo(TaskEventState.TASK_PENDING_NODE_ASSIGNMENT);
    // Rule: a task info is sent once per message, however many attempts refer to it.
    assertThat(batches.getFirst().getInfosCount()).isEqualTo(1);
    assertThat(batches.getFirst().getInfos(0).getFunctionName()).isEqualTo("Tasks.f");
    assertThat(events).allSatisfy(e -> assertThat(e.getInfoIndex()).isEqualTo(1));
  }

  /** Rule: a message holds at most the given number of attempts, each with the infos it uses. */
  @Test
  void splitsIntoMessagesOfAtMostMaxEvents() {
    List<TaskEventCoalescer.Recorded> recs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      recs.add(rec(spec(i, 0), TaskEventState.TASK_PENDING_ARGS_AVAIL, i));
    }
    List<TaskEventBatch.Builder> batches = new TaskEventCoalescer().batches(recs, 2);
    assertThat(batches).extracting(TaskEventBatch.Builder::getEventsCount).containsExactly(2, 2, 1);
    assertThat(batches).allSatisfy(b -> assertThat(b.getInfosCount()).isEqualTo(1));
  }

  /**
   * Rule: the store resolves infos by index, places a started attempt on the batch's sender, and
   * keeps a failure's error.
   */
  @Test
  void theStoreResolvesInfosAndTheSender() {
    TaskSpec a = spec(1, 0);
    TaskSpec b = spec(2, 0);
    ErrorInfo err =
        ErrorInfo.newBuilder().setType(ErrorType.TASK_EXECUTION_EXCEPTION).setMessage("x").build();
    List<TaskEventCoalescer.Recorded> owner =
        List.of(
            rec(a, TaskEventState.TASK_PENDING_ARGS_AVAIL, 10),
            rec(b, TaskEventState.TASK_PENDING_ARGS_AVAIL, 11),
            rec(b, TaskEventState.TASK_FAILED, 30, err));
    List<TaskEventCoalescer.Recorded> executor = List.of(rec(a, TaskEventState.TASK_RUNNING, 15));
    TaskStore store = new TaskStore(10);
    store.add(new TaskEventCoalescer().batches(owner, 100).getFirst().build());
    store.add(
        new TaskEventCoalescer()
            .batches(executor, 100)
            .getFirst()
            .setNodeId(NODE)
            .setWorkerId(WORKER)
            .build());
    List<TaskState> rows = store.rows().stream().map(StateProtos::task).toList();
    TaskState ra = rows.get(0);
    assertThat(ra.state()).isEqualTo(TaskStatus.RUNNING);
    assertThat(ra.functionName()).isEqualTo("Tasks.f");
    assertThat(ra.submittedAt()).isNotNull();
    assertThat(ra.startedAt()).isAfter(ra.submittedAt());
    assertThat(store.rows().get(0).getNodeId()).isEqualTo(NODE);
    assertThat(store.rows().get(0).getWorkerId()).isEqualTo(WORKER);
    TaskState rb = rows.get(1);
    assertThat(rb.state()).isEqualTo(TaskStatus.FAILED);
    assertThat(rb.errorType()).isEqualTo("TASK_EXECUTION_EXCEPTION");
    assertThat(rb.functionName()).isEqualTo("Tasks.f");
    assertThat(store.rows().get(1).getNodeId()).isEmpty();
  }
}
