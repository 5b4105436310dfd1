package dev.sluice.runtime.state;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.StreamCounters;
import dev.sluice.runtime.rpc.proto.TaskEvent;
import dev.sluice.runtime.rpc.proto.TaskEventBatch;
import dev.sluice.runtime.rpc.proto.TaskEventInfo;
import dev.sluice.runtime.rpc.proto.TaskEventState;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process's task event recorder and reporter (Ray's task event buffer, DESIGN "Observing"):
 * owners record each task attempt's submission, retry and outcome, executors record when an attempt
 * starts running; the events wait in a bounded {@link TaskEventBuffer} (drops counted) and a
 * reporter thread sends them in batches, every {@code interval} or as soon as {@code batchSize} are
 * waiting, together with the counters of the streams this process owns ({@link #trackStream}).
 *
 * <p>When observability is off ({@link #disabled()}), or once the control service answers that it
 * keeps no task events, recording does nothing.
 *
 * <p>Threads: recording methods are called from any thread and only build an event and add it to
 * the buffer; one platform daemon thread ({@code sluice-task-events}) drains and sends, blocking on
 * the send; {@link #close} sends what is left and stops it.
 */
public final class TaskEvents implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TaskEvents.class);

  /** Events a process holds at most before it drops new ones. */
  public static final int DEFAULT_CAPACITY = 100_000;

  /** Events sent in one batch at most; a full batch is sent at once. */
  public static final int DEFAULT_BATCH_SIZE = 2_000;

  /** How often waiting events and stream counters are sent. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);

  private static final TaskEvents DISABLED = new TaskEvents();

  private final TaskEventBuffer buffer;
  private final TaskEventSender sender;
  private final int batchSize;
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
    this.buffer = new TaskEventBuffer(1);
    this.sender = batch -> false;
    this.batchSize = 1;
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
      Duration interval) {
    this.buffer = new TaskEventBuffer(capacity);
    this.sender = sender;
    this.batchSize = batchSize;
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

  /** The owner submitted attempt {@code spec.attempt_number} (also a retry's new attempt). */
  public void submitted(TaskSpec spec) {
    if (!enabled) {
      return;
    }
    add(event(spec, TaskEventState.TASK_PENDING_ARGS_AVAIL).setInfo(info(spec)));
  }

  /** The owner's attempt has its arguments and waits for a worker. */
  public void pendingNodeAssignment(TaskSpec spec) {
    if (enabled) {
      add(event(spec, TaskEventState.TASK_PENDING_NODE_ASSIGNMENT));
    }
  }

  /** The executor started running the attempt in this process. */
  public void running(TaskSpec spec) {
    if (enabled) {
      add(event(spec, TaskEventState.TASK_RUNNING).setNodeId(nodeId).setWorkerId(workerId));
    }
  }

  /** The owner saw the attempt finish without error. */
  public void finished(TaskSpec spec) {
    if (enabled) {
      add(event(spec, TaskEventState.TASK_FINISHED));
    }
  }

  /** The attempt failed with {@code error} (the task may go on as a new attempt). */
  public void failed(TaskSpec spec, ErrorInfo error) {
    if (enabled) {
      add(
          event(spec, TaskEventState.TASK_FAILED)
              .setErrorType(error.getType().name())
              .setErrorMessage(error.getMessage()));
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
          new TrackedStream(streamId, spec.getTaskId(), functionName(spec), window, source));
    }
  }

  /** Events waiting to be sent (for tests). */
  int waiting() {
    return buffer.size();
  }

  private static TaskEvent.Builder event(TaskSpec spec, TaskEventState state) {
    return TaskEvent.newBuilder()
        .setTaskId(spec.getTaskId())
        .setAttemptNumber(spec.getAttemptNumber())
        .setState(state)
        .setTimeMicros(nowMicros());
  }

  private void add(TaskEvent.Builder e) {
    buffer.add(e.build());
    if (buffer.size() >= batchSize) {
      lock.lock();
      try {
        wake.signal();
      } finally {
        lock.unlock();
      }
    }
  }

  /** What the owner knows of the task, sent with its submit event. */
  static TaskEventInfo info(TaskSpec spec) {
    TaskEventInfo.Builder b =
        TaskEventInfo.newBuilder()
            .setName(spec.getDisplayName())
            .setFunctionName(functionName(spec))
            .setGenerator(spec.getStreamingGenerator())
            .setJobId(spec.getJobId());
    if (spec.hasActorCreation()) {
      b.setType("ACTOR_CREATION_TASK").setActorId(spec.getActorCreation().getActorId());
    } else if (spec.hasActorCall()) {
      b.setType("ACTOR_TASK").setActorId(spec.getActorCall().getActorId());
    } else {
      b.setType("NORMAL_TASK");
    }
    return b.build();
  }

  /** {@code SimpleClass.method} of the task's function. */
  static String functionName(TaskSpec spec) {
    String cls = spec.getFunction().getClassName();
    String method = spec.getFunction().getMethodName();
    if (cls.isEmpty() || method.isEmpty()) {
      return spec.getDisplayName();
    }
    return cls.substring(cls.lastIndexOf('.') + 1) + "." + method;
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
        if (buffer.size() < batchSize && !closed) {
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

  /** Sends what is waiting now, in batches of at most {@code batchSize}, and stream counters. */
  public void flush() {
    if (!enabled) {
      return;
    }
    do {
      TaskEventBuffer.Drained d = buffer.drain(batchSize);
      TaskEventBatch.Builder batch =
          TaskEventBatch.newBuilder().addAllEvents(d.events()).setDroppedEvents(d.dropped());
      addStreams(batch);
      if (batch.getEventsCount() == 0 && batch.getStreamsCount() == 0 && d.dropped() == 0) {
        return;
      }
      try {
        if (!sender.send(batch.build())) {
          log.info("the cluster keeps no task events: this process stops recording them");
          enabled = false;
          streams.clear();
          return;
        }
      } catch (RuntimeException e) {
        buffer.countDropped(d.events().size());
        log.debug("could not send {} task events: {}", d.events().size(), e.toString());
        return;
      }
    } while (buffer.size() >= batchSize);
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
