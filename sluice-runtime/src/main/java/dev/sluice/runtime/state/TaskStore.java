package dev.sluice.runtime.state;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.TaskEvent;
import dev.sluice.runtime.rpc.proto.TaskEventState;
import dev.sluice.runtime.rpc.proto.TaskRow;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control service's bounded store of recent task attempts (Ray's GCS task manager), built by
 * merging the events owners and executors send: one row per attempt, in the order attempts were
 * first heard of. Events may come out of order (owner and executor report separately): a row's
 * state only moves forward ({@code PENDING_ARGS_AVAIL} to {@code FINISHED}/{@code FAILED}), and the
 * other fields fill in as their events arrive.
 *
 * <p>At most {@code maxTasks} attempts are kept: beyond that the oldest finished (or failed) ones
 * are evicted first, then the oldest of any kind; evictions and the drops senders reported are
 * counted ({@link #droppedEvents()}).
 *
 * <p>Thread-safe: every method holds the store's monitor.
 */
final class TaskStore {
  private record Key(ByteString taskId, int attempt) {}

  private final int maxTasks;
  private final LinkedHashMap<Key, TaskRow.Builder> rows = new LinkedHashMap<>();
  private long droppedEvents;
  private long evicted;

  TaskStore(int maxTasks) {
    if (maxTasks < 1) {
      throw new IllegalArgumentException("maxTasks must be >= 1, got " + maxTasks);
    }
    this.maxTasks = maxTasks;
  }

  /** Merges {@code events}; {@code dropped} events were lost by their sender. */
  synchronized void add(List<TaskEvent> events, long dropped) {
    droppedEvents += dropped;
    for (TaskEvent e : events) {
      merge(e);
    }
    if (rows.size() > maxTasks) {
      evict(rows.size() - maxTasks);
    }
  }

  private void merge(TaskEvent e) {
    Key key = new Key(e.getTaskId(), e.getAttemptNumber());
    TaskRow.Builder row = rows.get(key);
    if (row == null) {
      row =
          TaskRow.newBuilder()
              .setTaskId(e.getTaskId())
              .setAttemptNumber(e.getAttemptNumber())
              .setState(e.getState());
      rows.put(key, row);
    }
    if (e.hasInfo()) {
      row.setInfo(e.getInfo());
    }
    if (!e.getNodeId().isEmpty()) {
      row.setNodeId(e.getNodeId()).setWorkerId(e.getWorkerId());
    }
    switch (e.getState()) {
      case TASK_PENDING_ARGS_AVAIL -> row.setSubmittedMicros(e.getTimeMicros());
      case TASK_RUNNING -> row.setStartedMicros(e.getTimeMicros());
      case TASK_FINISHED, TASK_FAILED -> {
        row.setEndedMicros(e.getTimeMicros());
        if (!e.getErrorType().isEmpty()) {
          row.setErrorType(e.getErrorType()).setErrorMessage(e.getErrorMessage());
        }
      }
      default -> {}
    }
    if (rank(e.getState()) > rank(row.getState())) {
      row.setState(e.getState());
    }
  }

  private static int rank(TaskEventState s) {
    return switch (s) {
      case TASK_PENDING_ARGS_AVAIL -> 1;
      case TASK_PENDING_NODE_ASSIGNMENT -> 2;
      case TASK_SUBMITTED_TO_WORKER -> 3;
      case TASK_RUNNING -> 4;
      case TASK_FINISHED, TASK_FAILED -> 5;
      default -> 0;
    };
  }

  private static boolean done(TaskRow.Builder r) {
    return rank(r.getState()) == 5;
  }

  /** Evicts {@code n} attempts: the oldest finished ones first, then the oldest of any kind. */
  private void evict(int n) {
    int left = n;
    for (Iterator<TaskRow.Builder> it = rows.values().iterator(); it.hasNext() && left > 0; ) {
      if (done(it.next())) {
        it.remove();
        left--;
      }
    }
    for (Iterator<Map.Entry<Key, TaskRow.Builder>> it = rows.entrySet().iterator();
        it.hasNext() && left > 0; ) {
      it.next();
      it.remove();
      left--;
    }
    evicted += n;
  }

  /** Every attempt kept, oldest first. */
  synchronized List<TaskRow> rows() {
    List<TaskRow> out = new ArrayList<>(rows.size());
    for (TaskRow.Builder b : rows.values()) {
      out.add(b.build());
    }
    return out;
  }

  /** Events lost before they were stored: dropped by senders, plus attempts evicted. */
  synchronized long droppedEvents() {
    return droppedEvents + evicted;
  }
}
