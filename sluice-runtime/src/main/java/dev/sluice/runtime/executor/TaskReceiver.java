package dev.sluice.runtime.executor;

import dev.sluice.ActorId;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.TaskContext;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.serial.ObjectSerializer;
import io.micrometer.core.instrument.Counter;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor side of a worker: receives pushed tasks and runs them in arrival order, one at a
 * time unless the running ones are blocked (see {@link ExecutionSlots}, the CPU-lending rule), then
 * answers each {@code PushTask} with the task's return objects (or its error, see {@link
 * TaskReplies}). It also runs a blocked task's own queued children inline ({@link #runInline}, the
 * work-helping rule). Tasks arrive on {@link TaskStream}s, which the process's {@code
 * CoreWorkerService} opens with {@link TaskStream#open}; the receiver reaches its process through
 * {@link ExecutionEnv}.
 *
 * <p>Threads: {@link #push} and {@link #cancel} run on transport threads and only queue work or
 * interrupt; each task runs on a task thread owned by {@link ExecutionSlots}. Cancellation of a
 * running task interrupts its thread; a task that ignores the interrupt is ended by its owner,
 * which has this worker killed after a grace period (see {@code TaskCanceller}). One report sender
 * thread (also owned here) sends streaming generator reports that producers did not send
 * themselves.
 */
public final class TaskReceiver {
  private static final Logger log = LoggerFactory.getLogger(TaskReceiver.class);

  private final ExecutionEnv env;
  private final TaskExecution execution;
  private final TaskReplies replies;

  /** The actor this worker hosts, if its creation task came here. */
  private final ActorHost actor;

  /** Queued and running tasks, and when the next one starts (the CPU-lending rule). */
  private final ExecutionSlots<TaskRun> slots;

  /** The task a thread of {@link #slots} runs (inherited by threads the task starts). */
  private final InheritableThreadLocal<TaskRun> currentWork = new InheritableThreadLocal<>();

  private final ExecutorService reportSender =
      Executors.newSingleThreadExecutor(
          Thread.ofPlatform().daemon().name("sluice-report-sender").factory());

  /** Tasks run to the end. */
  private final AtomicLong finishedTasks = new AtomicLong();

  private volatile boolean stopped;

  /** Tasks running inline in their owner's blocked task (work helping); for cancellation. */
  private final Set<TaskRun> inline = ConcurrentHashMap.newKeySet();

  /** A receiver running tasks in {@code env}. */
  public TaskReceiver(ExecutionEnv env, ObjectSerializer serializer) {
    this(env, serializer, ActorHost.ProcessExit.JVM);
  }

  /** A receiver whose hosted actor ends the process through {@code exit} (tests fake it). */
  TaskReceiver(ExecutionEnv env, ObjectSerializer serializer, ActorHost.ProcessExit exit) {
    this.env = env;
    this.execution = new TaskExecution(env, serializer);
    this.replies = execution.replies();
    this.actor = new ActorHost(env, execution, exit);
    this.slots = new ExecutionSlots<>(this::run, env::lendCpu);
  }

  /** True when no task or actor call is running or queued here. */
  public boolean isIdle() {
    return slots.isIdle() && actor.isIdle();
  }

  /** Tasks and actor calls this receiver has run to the end (any outcome). */
  public long finishedTasks() {
    return finishedTasks.get() + actor.finishedCalls();
  }

  /** Starts running tasks (each on a thread of its own, see {@link ExecutionSlots}). */
  public void start() {
    slots.start();
  }

  /** The process's counter of streamed items produced (a no-op one while observability is off). */
  Counter producedItems() {
    return env.metrics().streamItems(SluiceMetrics.Side.PRODUCED);
  }

  /** The thread that sends generator reports and held replies of this receiver's streams. */
  Executor reportSender() {
    return reportSender;
  }

  /** The transport's message limit, which bounds a stream's batches. */
  int maxMessageBytes() {
    return env.maxMessageBytes();
  }

  /**
   * A task arrived on {@code stream}, in a batch whose caller reported its actor calls below {@code
   * callerProcessedUpTo} processed: an actor's creation or call goes to the {@link ActorHost}, any
   * other task to the slots.
   */
  void push(PushTaskRequest request, TaskStream stream, long callerProcessedUpTo) {
    TaskSpec spec = request.getSpec();
    if (spec.hasActorCreation()) {
      actor.create(new TaskRun(request, stream));
    } else if (spec.hasActorCall()) {
      actor.call(new TaskRun(request, stream), callerProcessedUpTo);
    } else {
      slots.add(new TaskRun(request, stream));
    }
  }

  /** A batch without tasks from an actor's caller carried {@code callerProcessedUpTo}. */
  void callerProcessed(TaskStream stream, long callerProcessedUpTo) {
    actor.advance(stream, callerProcessedUpTo);
  }

  /**
   * The control service tells the hosted actor {@code id} to exit ({@code Sluice.kill}): the
   * process halts shortly after. False if this worker does not host it.
   */
  public boolean exitActor(ActorId id, String reason) {
    return actor.exit(id, reason);
  }

  /** True when the next task to run is one of {@code stream}'s. */
  boolean nextQueuedIsOf(TaskStream stream) {
    TaskRun next = slots.peekQueued();
    return next != null && next.stream == stream;
  }

  /** Sends every queued task of {@code stream} back to its owner, which stole them. */
  void returnQueued(TaskStream stream) {
    for (TaskRun w : slots.remove(w -> w.stream == stream)) {
      stream.send(
          w.request.getSpec().getTaskId(),
          PushTaskReply.newBuilder().setRequeue(true).build(),
          true);
    }
  }

  /**
   * The owner behind {@code stream} is gone (the stream failed, not closed): its running task is
   * cancelled, as nobody can take its result (Ray does the same for a dead owner's tasks), and the
   * lease goes back to the node.
   */
  void ownerLost(TaskStream stream) {
    if (actor.streamEnded(stream, true)) {
      return; // an actor's stream holds no lease
    }
    for (TaskRun r : slots.running()) {
      if (r.stream == stream) {
        log.info("task {} cancelled: its owner is gone", r.taskId);
        cancel(r.taskId);
      }
    }
    env.ownerConnectionLost(stream.leaseId());
  }

  /**
   * Forgets queued tasks of a stream whose owner went away ({@code broken}: its stream failed, and
   * {@link #ownerLost} follows).
   */
  void dropQueued(TaskStream stream, boolean broken) {
    if (!broken) {
      actor.streamEnded(stream, false);
    }
    slots.remove(w -> w.stream == stream);
  }

  /**
   * The calling thread's task entered ({@code true}) or left a blocking wait: a {@code get} or
   * {@code wait}, or a producer paused by backpressure. While every running task is blocked the
   * next queued one starts here, and with nothing left to start the CPU is lent to the node (DESIGN
   * "Nested tasks"). Threads that are not running a task of this receiver are ignored.
   */
  public void taskBlocked(boolean blocked) {
    TaskRun w = currentWork.get();
    if (w == null) {
      return;
    }
    if (blocked) {
      // Replies held back for the next task of the stream go now: it may start only because
      // this one blocked, and the blocked one may wait for their owner to act on them.
      w.stream.flush();
    }
    slots.blocked(w, blocked);
  }

  /** Cancels a queued or running task or actor call; returns whether it was found here. */
  public boolean cancel(TaskId id) {
    if (actor.cancel(id)) {
      return true;
    }
    for (TaskRun w : inline) {
      if (w.taskId.equals(id)) {
        w.cancel();
        return true;
      }
    }
    for (TaskRun r : slots.running()) {
      if (r.taskId.equals(id)) {
        r.cancel();
        // Replies held back for batching go now: if the task ignores the interrupt, its owner
        // kills this worker after a grace period, and held replies would be lost with it.
        r.stream.flush();
        return true;
      }
    }
    for (TaskRun w : slots.remove(w -> w.taskId.equals(id))) {
      w.cancelled = true;
      replyError(w, replies.cancelled(w.request.getSpec()));
      return true;
    }
    return false;
  }

  /**
   * Runs a task of this process's own submission on the calling thread, which is blocked waiting
   * for its result (the work-helping rule, DESIGN "Nested tasks"), and returns its reply, as its
   * worker would have sent it. The caller's task context is restored afterwards; an interrupt meant
   * for the inline task (its cancellation) does not leak into the caller.
   */
  public PushTaskReply runInline(TaskSpec spec) {
    CompletableFuture<PushTaskReply> reply = new CompletableFuture<>();
    TaskRun w = new TaskRun(PushTaskRequest.newBuilder().setSpec(spec).build(), null, reply);
    TaskContext caller = env.currentTask();
    boolean callerInterrupted = Thread.currentThread().isInterrupted();
    w.thread = Thread.currentThread();
    inline.add(w);
    try {
      executeReportingInternalErrors(w);
    } finally {
      inline.remove(w);
      env.setCurrentTask(caller);
      if (w.cancelled && !callerInterrupted && !isCancelled(caller)) {
        Thread.interrupted();
      }
    }
    return reply.getNow(PushTaskReply.getDefaultInstance());
  }

  private boolean isCancelled(TaskContext ctx) {
    if (ctx == null) {
      return false;
    }
    for (TaskRun r : slots.running()) {
      if (r.taskId.equals(ctx.taskId())) {
        return r.cancelled;
      }
    }
    for (TaskRun w : inline) {
      if (w.taskId.equals(ctx.taskId())) {
        return w.cancelled;
      }
    }
    return false;
  }

  /** Stops taking new tasks. */
  public void stop() {
    stopped = true;
    reportSender.shutdownNow();
    slots.stop();
    slots.running().forEach(TaskRun::interrupt);
    actor.stop();
  }

  /** Runs one pushed task to the end, on a thread of its own (see {@link ExecutionSlots}). */
  private void run(TaskRun w) {
    if (stopped) {
      return;
    }
    w.thread = Thread.currentThread();
    currentWork.set(w);
    for (TaskRun other : slots.running()) {
      if (other != w && other.stream == w.stream) {
        // Its owner counts only the first task of a lease as started unless told otherwise
        // (a retry is charged only to a task that ran).
        w.stream.sendStarted(w.request.getSpec().getTaskId());
        break;
      }
    }
    try {
      executeReportingInternalErrors(w);
    } finally {
      finishedTasks.incrementAndGet();
      Thread.interrupted();
      env.setCurrentTask(null);
      currentWork.remove();
    }
  }

  /** Runs {@code w}; a failure of the runtime itself (not of the task) becomes its error reply. */
  private void executeReportingInternalErrors(TaskRun w) {
    try {
      execution.run(w, this::send);
    } catch (Throwable t) {
      log.error(
          "unexpected failure running task {}{}",
          w.taskId,
          w.inlineReply != null ? " inline" : "",
          t);
      replyError(w, replies.internalError(w.taskId, t));
    }
  }

  private void replyError(TaskRun w, ErrorInfo e) {
    execution.replyError(w, e, this::send);
  }

  private void send(TaskRun w, PushTaskReply reply) {
    env.awaitBorrowRegistrations();
    if (w.inlineReply != null) {
      w.inlineReply.complete(reply);
      return;
    }
    // Hold the reply back only while the next task to run replies on the same stream; never a
    // cancelled task's, whose owner kills the worker if the reply does not come in time.
    TaskRun next = slots.peekQueued();
    w.stream.send(
        w.request.getSpec().getTaskId(),
        reply,
        next != null && next.stream == w.stream && !w.cancelled);
  }
}
