package dev.sluice.runtime.state;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.TaskEvent;
import dev.sluice.runtime.rpc.proto.TaskEventBatch;
import dev.sluice.runtime.rpc.proto.TaskEventInfo;
import dev.sluice.runtime.rpc.proto.TaskEventState;
import dev.sluice.runtime.rpc.proto.TaskRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control service's bounded store of recent task attempts (Ray's GCS task manager), built by
 * merging the events owners and executors send: one row per attempt, in the order attempts were
 * first heard of. Events may come out of order (owner and executor report separately): a row's
 * state only moves forward ({@code PENDING_ARGS_AVAIL} to {@code FINISHED}/{@code FAILED}), and the
 * other fields fill in as their events arrive. An event may carry several states of its attempt
 * (its sender coalesced them, {@link TaskEventCoalescer}).
 *
 * <p>Rows are compact: keyed by the task id's two longs and the attempt, their task infos and node
 * and worker ids shared (interned) rather than copied per row, so that 100,000 kept attempts cost
 * little memory and a merge little time; the messages are built only when listed.
 *
 * <p>At most {@code maxTasks} attempts are kept: beyond that the oldest finished (or failed) ones
 * are evicted first, then the oldest of any kind; evictions and the drops senders reported are
 * counted ({@link #droppedEvents()}).
 *
 * <p>Thread-safe: every method holds the store's monitor.
 */
final class TaskStore {
  /** An attempt's key; plain fields and methods (no record: its methods dispatch indirectly). */
  private static final class Key {
    final long hi;
    final long lo;
    final int attempt;

    Key(long hi, long lo, int attempt) {
      this.hi = hi;
      this.lo = lo;
      this.attempt = attempt;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.hi == hi && k.lo == lo && k.attempt == attempt;
    }

    @Override
    public int hashCode() {
      long h = hi * 31 + lo;
      return (int) (h ^ (h >>> 32)) * 31 + attempt;
    }
  }

  /** Interned infos and ids kept at most; beyond, interning starts over. */
  private static final int MAX_INTERNED = 4_096;

  private final int maxTasks;
  private final LinkedHashMap<Key, Row> rows = new LinkedHashMap<>();
  private final Map<Object, Object> interned = new HashMap<>();
  private long droppedEvents;
  private long evicted;

  TaskStore(int maxTasks) {
    if (maxTasks < 1) {
      throw new IllegalArgumentException("maxTasks must be >= 1, got " + maxTasks);
    }
    this.maxTasks = maxTasks;
  }

  /** Merges the events of {@code batch}, sent by the process its node and worker ids name. */
  synchronized void add(TaskEventBatch batch) {
    droppedEvents += batch.getDroppedEvents();
    TaskEventInfo[] infos = new TaskEventInfo[batch.getInfosCount()];
    for (int i = 0; i < infos.length; i++) {
      infos[i] = intern(batch.getInfos(i));
    }
    ByteString node = intern(batch.getNodeId());
    ByteString worker = intern(batch.getWorkerId());
    for (TaskEvent e : batch.getEventsList()) {
      merge(e, infos, node, worker);
    }
    evictBeyondCap();
  }

  /**
   * Merges {@code events} (each with its info and ids); {@code dropped} were lost by their sender.
   */
  synchronized void add(List<TaskEvent> events, long dropped) {
    droppedEvents += dropped;
    for (TaskEvent e : events) {
      merge(e, new TaskEventInfo[0], ByteString.EMPTY, ByteString.EMPTY);
    }
    evictBeyondCap();
  }

  private void evictBeyondCap() {
    if (rows.size() > maxTasks) {
      evict(rows.size() - maxTasks);
    }
  }

  private void merge(TaskEvent e, TaskEventInfo[] infos, ByteString node, ByteString worker) {
    ByteString id = e.getTaskId();
    Key key = new Key(longAt(id, 0), longAt(id, 8), e.getAttemptNumber());
    Row row = rows.get(key);
    if (row == null) {
      row = new Row(id, e.getAttemptNumber());
      rows.put(key, row);
    }
    if (e.hasInfo()) {
      row.info = intern(e.getInfo());
    } else if (e.getInfoIndex() > 0 && e.getInfoIndex() <= infos.length) {
      row.info = infos[e.getInfoIndex() - 1];
    }
    if (!e.getNodeId().isEmpty()) {
      row.nodeId = intern(e.getNodeId());
      row.workerId = intern(e.getWorkerId());
    } else if ((e.getStartedMicros() != 0 || e.getState() == TaskEventState.TASK_RUNNING)
        && !node.isEmpty()) {
      row.nodeId = node;
      row.workerId = worker;
    }
    if (e.getSubmittedMicros() != 0) {
      row.submittedMicros = e.getSubmittedMicros();
    }
    if (e.getStartedMicros() != 0) {
      row.startedMicros = e.getStartedMicros();
    }
    switch (e.getState()) {
      case TASK_PENDING_ARGS_AVAIL -> row.submittedMicros = e.getTimeMicros();
      case TASK_RUNNING -> row.startedMicros = e.getTimeMicros();
      case TASK_FINISHED, TASK_FAILED -> {
        row.endedMicros = e.getTimeMicros();
        if (!e.getErrorType().isEmpty()) {
          row.errorType = e.getErrorType();
          row.errorMessage = e.getErrorMessage();
        }
      }
      default -> {}
    }
    if (rank(e.getState()) > rank(row.state)) {
      row.state = e.getState();
    }
  }

  /** Where a state stands in an attempt's life: a row's state only moves to a higher rank. */
  static int rank(TaskEventState s) {
    return switch (s) {
      case TASK_PENDING_ARGS_AVAIL -> 1;
      case TASK_PENDING_NODE_ASSIGNMENT -> 2;
      case TASK_SUBMITTED_TO_WORKER -> 3;
      case TASK_RUNNING -> 4;
      case TASK_FINISHED, TASK_FAILED -> 5;
      default -> 0;
    };
  }

  /** Evicts {@code n} attempts: the oldest finished ones first, then the oldest of any kind. */
  private void evict(int n) {
    int left = n;
    for (Iterator<Row> it = rows.values().iterator(); it.hasNext() && left > 0; ) {
      if (rank(it.next().state) == 5) {
        it.remove();
        left--;
      }
    }
    for (Iterator<Map.Entry<Key, Row>> it = rows.entrySet().iterator();
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
    for (Row r : rows.values()) {
      out.add(r.toMessage());
    }
    return out;
  }

  /** Events lost before they were stored: dropped by senders, plus attempts evicted. */
  synchronized long droppedEvents() {
    return droppedEvents + evicted;
  }

  @SuppressWarnings("unchecked")
  private <T> T intern(T value) {
    Object kept = interned.get(value);
    if (kept != null) {
      return (T) kept;
    }
    if (interned.size() >= MAX_INTERNED) {
      interned.clear();
    }
    interned.put(value, value);
    return value;
  }

  /** The 8 bytes of {@code id} at {@code offset} as a long (missing bytes read as 0). */
  private static long longAt(ByteString id, int offset) {
    long v = 0;
    int end = Math.min(id.size(), offset + 8);
    for (int i = offset; i < end; i++) {
      v = (v << 8) | (id.byteAt(i) & 0xFF);
    }
    return v;
  }

  /** One attempt as far as its events told. */
  private static final class Row {
    final ByteString taskId;
    final int attempt;
    TaskEventState state = TaskEventState.TASK_EVENT_STATE_UNSPECIFIED;
    TaskEventInfo info;
    ByteString nodeId = ByteString.EMPTY;
    ByteString workerId = ByteString.EMPTY;
    long submittedMicros;
    long startedMicros;
    long endedMicros;
    String errorType = "";
    String errorMessage = "";

    Row(ByteString taskId, int attempt) {
      this.taskId = taskId;
      this.attempt = attempt;
    }

    TaskRow toMessage() {
      TaskRow.Builder b =
          TaskRow.newBuilder()
              .setTaskId(taskId)
              .setAttemptNumber(attempt)
              .setState(state)
              .setNodeId(nodeId)
              .setWorkerId(workerId)
              .setSubmittedMicros(submittedMicros)
              .setStartedMicros(startedMicros)
              .setEndedMicros(endedMicros)
              .setErrorType(errorType)
              .setErrorMessage(errorMessage);
      if (info != null) {
        b.setInfo(info);
      }
      return b.build();
    }
  }
}
