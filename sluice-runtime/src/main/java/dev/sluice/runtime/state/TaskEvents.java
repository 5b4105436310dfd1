package dev.sluice.runtime.state;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.StreamCounters;
import dev.sluice.runtime.rpc.proto.TaskEventBatch;
import dev.sluice.runtime.rpc.proto.TaskEventInfo;
import dev.sluice.runtime.rpc.proto.TaskEventState;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process's task event recorder and reporter (Ray's task event buffer, DESIGN "Observing"):
 * owners record each task attempt's submission, wait for a node, push to a worker, retry and
 * outcome, executors record when an attempt starts running; the events wait in a bounded {@link
 * TaskEventBuffer} (drops counted) and a reporter thread sends them, every {@code interval} or as
 * soon as half the buffer is full, in messages of at most {@code batchSize} attempts, together with
 * the counters of the streams this process owns ({@link #trackStream}).
 *
 * <p>Cost (DESIGN "Observing"): recording appends one small record (task id, attempt, state, time,
 * and on a submit or failure the task's shared {@link TaskEventInfos} entry, never the spec) and
 * builds no message; the reporter builds them, one per attempt per batch, with each task info once
 * per batch ({@link TaskEventCoalescer}). Above {@link TaskEventSampling}'s rate, new attempts are
 * not recorded at all (failures excepted) and are counted as dropped.
 *
 * <p>When observability is off ({@link #disabled()}), or once the control service answers that it
 * keeps no task events, recording does nothing.
 *
 * <p>Threads: recording methods are called from any thread and only add a record to the buffer; one
 * platform daemon thread ({@code sluice-task-events}) drains and sends, blocking on the send;
 * {@link #close} sends what is left and stops it.
 */
public final class TaskEvents implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TaskEvents.class);

  /** Events a process holds at most before it drops new ones. */
  public static final int DEFAULT_CAPACITY = 100_000;

  /** Attempts' events sent in one message at most. */
  public static final int DEFAULT_BATCH_SIZE = 2_000;

  /**
   * How often waiting events and stream counters are sent: often enough that most records die young
   * (a second's worth of records outlived young collections and cost more in copying than their
   * sending), seldom enough that a short task's records still travel as one event.
   */
  public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(200);

  private static final TaskEvents DISABLED = new TaskEvents();

  private final TaskEventBuffer<TaskEventCoalescer.Recorded> buffer;
  private final TaskEventSampling sampling;
  private final TaskEventCoalescer coalescer = new TaskEventCoalescer();
  private final TaskEventInfos infos = new TaskEventInfos();
  private final TaskEventSender sender;
  private final int batchSize;
  private final int wakeAt;
  private final long intervalNanos;
  private final ByteString workerId;
  private final ByteString nodeId;
  private final Map<ObjectId, TrackedStream> streams = new ConcurrentHashMap<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  private final Thread reporter;
  private volatile boolean enabled;
  private volatile boolean closed;

  private record TrackedStream(
      ObjectId id, ByteString taskId, String functionName, int window, StreamSource source) {}

  private TaskEvents() {
    this.buffer = new TaskEventBuffer<>(1);
    this.sampling = new TaskEventSampling(0);
    this.sender = batch -> false;
    this.batchSize = 1;
    this.wakeAt = 1;
    this.intervalNanos = 0;
    this.workerId = ByteString.EMPTY;
    this.nodeId = ByteString.EMPTY;
    this.reporter = null;
    this.enabled = false;
  }

  /**
   * A recorder for the process {@code workerId} on {@code nodeId} (raw id bytes) sending through
   * {@code sender}; starts its reporter thread.
   */
  public TaskEvents(
      TaskEventSender sender,
      ByteString workerId,
      ByteString nodeId,
      int capacity,
      int batchSize,
      Duration interval,
      TaskEventSampling sampling) {
    this.buffer = new TaskEventBuffer<>(capacity);
    this.sampling = sampling;
    this.sender = sender;
    this.batchSize = batchSize;
    this.wakeAt = Math.max(1, capacity / 2);
    this.intervalNanos = interval.toNanos();
    this.workerId = workerId;
    this.nodeId = nodeId;
    this.enabled = true;
    this.reporter = Thread.ofPlatform().daemon().name("sluice-task-events").start(this::report);
  }

  /** A recorder that records nothing (observability off). */
  public static TaskEvents disabled() {
    return DISABLED;
  }

  /** True while events are recorded. */
  public boolean enabled() {
    return enabled;
  }

  // ------------------------------------------------------------------ recording

  /**
   * Whether the attempts of a task whose spec is being built are recorded ({@link
   * TaskEventSampling}): the answer goes in the spec's {@code record_events}, which every other
   * recording method reads. Always false while recording is off.
   */
  public boolean sample() {
    return enabled && sampling.admit();
  }

  /** The owner submitted attempt {@code spec.attempt_number} (also a retry's new attempt). */
  public void submitted(TaskSpec spec) {
    add(spec, TaskEventState.TASK_PENDING_ARGS_AVAIL, null);
  }

  /** The owner's attempt has its arguments and waits for a lease on a node's worker. */
  public void pendingNodeAssignment(TaskSpec spec) {
    add(spec, TaskEventState.TASK_PENDING_NODE_ASSIGNMENT, null);
  }

  /** The owner pushed the attempt to a worker it leased. */
  public void submittedToWorker(TaskSpec spec) {
    add(spec, TaskEventState.TASK_SUBMITTED_TO_WORKER, null);
  }

  /** The executor started running the attempt in this process. */
  public void running(TaskSpec spec) {
    add(spec, TaskEventState.TASK_RUNNING, null);
  }

  /** The owner saw the attempt finish without error. */
  public void finished(TaskSpec spec) {
    add(spec, TaskEventState.TASK_FINISHED, null);
  }

  /**
   * The attempt failed with {@code error} (the task may go on as a new attempt). Recorded also for
   * an attempt left out by {@link TaskEventSampling}: failures are always kept.
   */
  public void failed(TaskSpec spec, ErrorInfo error) {
    if (enabled) {
      append(spec, TaskEventState.TASK_FAILED, error);
    }
  }

  /**
   * Reports {@code source}'s counters with every batch until it says it is gone; {@code window} is
   * its backpressure window (-1 when off).
   */
  public void trackStream(ObjectId streamId, TaskSpec spec, int window, StreamSource source) {
    if (enabled) {
      streams.put(
          streamId,
          new TrackedStream(
              streamId, spec.getTaskId(), TaskEventInfos.functionName(spec), window, source));
    }
  }

  /** Records at most {@code perSecond} new attempts per second from now on. */
  public void limitPerSecond(int perSecond) {
    sampling.setPerSecond(perSecond);
  }

  /** Events waiting to be sent (for tests). */
  int waiting() {
    return buffer.size();
  }

  private void add(TaskSpec spec, TaskEventState state, ErrorInfo error) {
    if (enabled && spec.getRecordEvents()) {
      append(spec, state, error);
    }
  }

  private void append(TaskSpec spec, TaskEventState state, ErrorInfo error) {
    // Wakes the reporter early once, when half the buffer is full (not to drop events); else it
    // sends every interval, so that most short tasks' records travel as one event.
    TaskEventInfo info =
        state == TaskEventState.TASK_PENDING_ARGS_AVAIL || state == TaskEventState.TASK_FAILED
            ? infos.of(spec)
            : null;
    TaskEventCoalescer.Recorded r =
        new TaskEventCoalescer.Recorded(
            spec.getTaskId(), spec.getAttemptNumber(), state, nowMicros(), error, info);
    if (buffer.add(r) == wakeAt) {
      lock.lock();
      try {
        wake.signal();
      } finally {
        lock.unlock();
      }
    }
  }

  static long nowMicros() {
    Instant now = Instant.now();
    return TimeUnit.SECONDS.toMicros(now.getEpochSecond()) + now.getNano() / 1_000;
  }

  // ------------------------------------------------------------------ reporting

  private void report() {
    while (!closed) {
      lock.lock();
      try {
        if (buffer.size() < wakeAt && !closed) {
          wake.awaitNanos(intervalNanos);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } finally {
        lock.unlock();
      }
      flush();
    }
  }

  /** Sends what is waiting now, in messages of at most {@code batchSize} attempts, and streams. */
  public void flush() {
    if (!enabled) {
      return;
    }
    TaskEventBuffer.Drained<TaskEventCoalescer.Recorded> d = buffer.drain(Integer.MAX_VALUE);
    List<TaskEventBatch.Builder> batches = coalescer.batches(d.events(), batchSize);
    if (batches.isEmpty()) {
      batches = List.of(TaskEventBatch.newBuilder());
    }
    TaskEventBatch.Builder first = batches.getFirst();
    long dropped = d.dropped() + sampling.takeRefused();
    first.setDroppedEvents(dropped);
    addStreams(first);
    if (first.getEventsCount() == 0 && first.getStreamsCount() == 0 && dropped == 0) {
      return;
    }
    for (int i = 0; i < batches.size(); i++) {
      TaskEventBatch.Builder batch = batches.get(i).setNodeId(nodeId).setWorkerId(workerId);
      try {
        if (!sender.send(batch.build())) {
          log.info("the cluster keeps no task events: this process stops recording them");
          enabled = false;
          streams.clear();
          return;
        }
      } catch (RuntimeException e) {
        int lost = 0;
        for (int j = i; j < batches.size(); j++) {
          lost += batches.get(j).getEventsCount();
        }
        buffer.countDropped(lost);
        log.debug("could not send {} task events: {}", lost, e.toString());
        return;
      }
    }
  }

  private void addStreams(TaskEventBatch.Builder batch) {
    long now = nowMicros();
    for (TrackedStream s : streams.values()) {
      StreamSource.Counters c = s.source().counters();
      batch.addStreams(
          StreamCounters.newBuilder()
              .setStreamId(ByteString.copyFrom(s.id().toBytes()))
              .setTaskId(s.taskId())
              .setFunctionName(s.functionName())
              .setState(c.state())
              .setOwnerWorkerId(workerId)
              .setOwnerNodeId(nodeId)
              .setProduced(c.produced())
              .setConsumed(c.consumed())
              .setHeld(c.held())
              .setWindow(s.window())
              .setStalledNanos(c.stalledNanos())
              .setTimeMicros(now));
      if (c.gone()) {
        streams.remove(s.id());
      }
    }
  }

  /** Stops recording for good (observability off) and stops the reporter. */
  public void disable() {
    enabled = false;
    streams.clear();
    close();
  }

  /** Sends what is left and stops the reporter. Idempotent. */
  @Override
  public void close() {
    if (reporter == null || closed) {
      return;
    }
    closed = true;
    lock.lock();
    try {
      wake.signal();
    } finally {
      lock.unlock();
    }
    try {
      reporter.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
