package dev.sluice.runtime.state;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.TaskEvent;
import dev.sluice.runtime.rpc.proto.TaskEventBatch;
import dev.sluice.runtime.rpc.proto.TaskEventInfo;
import dev.sluice.runtime.rpc.proto.TaskEventState;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the state changes one process recorded into the messages of one flush (as Ray's task event
 * buffer groups a flush per attempt): the records of one attempt become one {@link TaskEvent} with
 * its latest state and the times of the earlier ones (a short task's submit, scheduling and end
 * travel as one event), and each distinct {@link TaskEventInfo} goes once per message, referred to
 * by index. Infos come with the records ({@link TaskEventInfos}), so recording costs no string or
 * message work: recording threads only append a {@link Recorded}.
 *
 * <p>Not thread-safe: only the reporter thread of {@link TaskEvents} uses it.
 */
final class TaskEventCoalescer {
  /**
   * One recorded state change: the attempt, the state, when, a failure's error, and the task's info
   * (on a submit or a failure; null otherwise). Holds no spec, so a finished task's spec is not
   * kept alive until the next flush.
   */
  record Recorded(
      ByteString taskId,
      int attempt,
      TaskEventState state,
      long micros,
      ErrorInfo error,
      TaskEventInfo info) {}

  /** An attempt's key; plain methods (no record: its methods dispatch indirectly). */
  private static final class Attempt {
    final ByteString taskId;
    final int attempt;

    Attempt(ByteString taskId, int attempt) {
      this.taskId = taskId;
      this.attempt = attempt;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Attempt a && a.attempt == attempt && a.taskId.equals(taskId);
    }

    @Override
    public int hashCode() {
      return taskId.hashCode() * 31 + attempt;
    }
  }

  /**
   * The messages of {@code recorded} (in the order recorded): one event per attempt, in the order
   * attempts were first recorded, in batches of at most {@code maxEvents} events, each with the
   * infos its events refer to. Empty when nothing was recorded.
   */
  List<TaskEventBatch.Builder> batches(List<Recorded> recorded, int maxEvents) {
    Map<Attempt, Coalesced> byAttempt = new LinkedHashMap<>();
    for (Recorded r : recorded) {
      Coalesced c =
          byAttempt.computeIfAbsent(
              new Attempt(r.taskId(), r.attempt()),
              a ->
                  new Coalesced(
                      TaskEvent.newBuilder().setTaskId(a.taskId).setAttemptNumber(a.attempt)));
      TaskEvent.Builder e = c.event;
      if (r.info() != null) {
        c.info = r.info();
      }
      switch (r.state()) {
        case TASK_PENDING_ARGS_AVAIL -> e.setSubmittedMicros(r.micros());
        case TASK_RUNNING -> e.setStartedMicros(r.micros());
        case TASK_FAILED ->
            e.setErrorType(r.error().getType().name()).setErrorMessage(r.error().getMessage());
        default -> {}
      }
      if (TaskStore.rank(r.state()) >= TaskStore.rank(e.getState())) {
        e.setState(r.state()).setTimeMicros(r.micros());
      }
    }
    List<TaskEventBatch.Builder> out = new ArrayList<>();
    TaskEventBatch.Builder batch = null;
    Map<TaskEventInfo, Integer> indexOf = new IdentityHashMap<>();
    for (Coalesced c : byAttempt.values()) {
      if (batch == null || batch.getEventsCount() >= maxEvents) {
        batch = TaskEventBatch.newBuilder();
        out.add(batch);
        indexOf.clear();
      }
      if (c.info != null) {
        TaskEventBatch.Builder b = batch;
        c.event.setInfoIndex(
            indexOf.computeIfAbsent(
                c.info,
                i -> {
                  b.addInfos(i);
                  return b.getInfosCount();
                }));
      }
      batch.addEvents(c.event);
    }
    return out;
  }

  /** One attempt's event being built, and its info (from its submit record). */
  private static final class Coalesced {
    final TaskEvent.Builder event;
    TaskEventInfo info;

    Coalesced(TaskEvent.Builder event) {
      this.event = event;
    }
  }
}
