package dev.sluice.runtime.executor;

import com.google.protobuf.ByteString;
import dev.sluice.FunctionNotFoundException;
import dev.sluice.ObjectId;
import dev.sluice.ObjectStoreFullException;
import dev.sluice.ObjectTooLargeException;
import dev.sluice.SerializationException;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.common.TaskContext;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.ObjectRefInfo;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.TaskArg;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.serial.ObjectSerializer;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor side of a worker: receives pushed tasks and runs them in arrival order, one at a
 * time unless the running ones are blocked (see {@link ExecutionSlots}, the CPU-lending rule), then
 * answers each {@code PushTask} with the task's return objects (or its error). It also runs a
 * blocked task's own queued children inline ({@link #runInline}, the work-helping rule).
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
  private final ObjectSerializer serializer;
  private final FunctionManager functions;

  /** Queued and running tasks, and when the next one starts (the CPU-lending rule). */
  private final ExecutionSlots<Work> slots;

  /** The task a thread of {@link #slots} runs (inherited by threads the task starts). */
  private final InheritableThreadLocal<Work> currentWork = new InheritableThreadLocal<>();

  private final ExecutorService reportSender =
      Executors.newSingleThreadExecutor(
          Thread.ofPlatform().daemon().name("sluice-report-sender").factory());

  /** Tasks run to the end. */
  private final java.util.concurrent.atomic.AtomicLong finishedTasks =
      new java.util.concurrent.atomic.AtomicLong();

  private volatile boolean stopped;

  /** What the receiver needs from the core worker it belongs to. */
  public interface ExecutionEnv {
    /** Where tasks run, for messages: "node N, worker W". */
    String location();

    /** Blocks for the value of a borrowed or owned object. */
    Object getValue(ObjectRefImpl<?> ref);

    /** Makes {@code ctx} the current task of the calling thread (null clears it). */
    void setCurrentTask(TaskContext ctx);

    /**
     * The current task stopped (true) or resumed (false) waiting, e.g. a producer paused by
     * backpressure: its worker lends its CPU meanwhile, as in a blocking {@code get}.
     */
    void executionBlocked(boolean blocked);

    /** The current task of the calling thread, or null. */
    TaskContext currentTask();

    /** The transport's message limit. */
    int maxMessageBytes();

    /** This process's address, named in generator reports. */
    Address address();

    /**
     * Encodes a task's return value (or streamed item) {@code id}: inline, or written to the node's
     * shared-memory store when over the inline threshold. The refs nested in it are listed, and
     * {@code taskOwner} has been registered as a borrower of each when this returns, so they
     * outlive this process's own copies until the owner counts them.
     *
     * <p>With {@code sealLater}, a value written to the store may still be sealing on return: it
     * must not reach a reader before {@link EncodedReturn#sealed} completes.
     *
     * @throws SerializationException if the value cannot be serialized
     * @throws ObjectStoreFullException if it is large and the store has no room
     * @throws ObjectTooLargeException if it can neither travel inline nor fit the store
     */
    EncodedReturn encodeReturn(Object value, ObjectId id, Address taskOwner, boolean sealLater);

    /**
     * Waits until the borrows this process took on refs it deserialized are registered with their
     * owners: called before a task's reply releases the arguments that kept them alive.
     */
    void awaitBorrowRegistrations();

    /**
     * The owner's task stream broke (its process or node died, or the network failed): the lease
     * this worker serves ({@code leaseId}, empty if unknown) will never be returned by the owner,
     * so it is given back here.
     */
    void ownerConnectionLost(ByteString leaseId);

    /**
     * Tells the node that every task this worker runs is blocked ({@code true}: its CPU may be lent
     * out, and the worker leased again) or that one runs again. Called in order, on one thread; may
     * block.
     */
    void lendCpu(boolean lend);

    /**
     * An encoded return value and the refs nested in it; readable once {@code sealed} completes
     * (exceptionally if the store refused it).
     */
    record EncodedReturn(
        ObjectValue value,
        List<ObjectRefInfo> nestedRefs,
        java.util.concurrent.CompletableFuture<Void> sealed) {}
  }

  private static final class Work {
    final PushTaskRequest request;

    /** The lease's task stream it came on; null for a task run inline by its owner. */
    final TaskStream stream;

    /** Where an inline task's reply goes; null for a pushed task. */
    final CompletableFuture<PushTaskReply> inlineReply;

    final TaskId taskId;
    volatile boolean cancelled;

    /** The thread running it, once it runs. */
    volatile Thread thread;

    Work(PushTaskRequest request, TaskStream stream) {
      this(request, stream, null);
    }

    Work(PushTaskRequest request, TaskStream stream, CompletableFuture<PushTaskReply> inlineReply) {
      this.request = request;
      this.stream = stream;
      this.inlineReply = inlineReply;
      this.taskId = TaskId.fromBytes(request.getSpec().getTaskId().toByteArray());
    }
  }

  /** Tasks running inline in their owner's blocked task (work helping); for cancellation. */
  private final java.util.Set<Work> inline = ConcurrentHashMap.newKeySet();

  /** A receiver running tasks in {@code env}. */
  public TaskReceiver(ExecutionEnv env, ObjectSerializer serializer) {
    this.env = env;
    this.serializer = serializer;
    this.functions = new FunctionManager(serializer);
    this.slots = new ExecutionSlots<>(this::run, env::lendCpu);
  }

  /** True when no task is running or queued here. */
  public boolean isIdle() {
    return slots.isIdle();
  }

  /** Tasks this receiver has run to the end (any outcome). */
  public long finishedTasks() {
    return finishedTasks.get();
  }

  /** Starts running tasks (each on a thread of its own, see {@link ExecutionSlots}). */
  public void start() {
    slots.start();
  }

  /** Opens the worker's end of a lease's task stream; {@code out} carries the replies. */
  public StreamObserver<PushTaskBatch> openTaskStream(StreamObserver<TaskResultBatch> out) {
    return new TaskStream(this, out, reportSender, env.maxMessageBytes());
  }

  void push(PushTaskRequest request, TaskStream stream) {
    slots.add(new Work(request, stream));
  }

  /** True when the next task to run is one of {@code stream}'s. */
  boolean nextQueuedIsOf(TaskStream stream) {
    Work next = slots.peekQueued();
    return next != null && next.stream == stream;
  }

  /** Sends every queued task of {@code stream} back to its owner, which stole them. */
  void returnQueued(TaskStream stream) {
    for (Work w : slots.remove(w -> w.stream == stream)) {
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
    for (Work r : slots.running()) {
      if (r.stream == stream) {
        log.info("task {} cancelled: its owner is gone", r.taskId);
        cancel(r.taskId);
      }
    }
    env.ownerConnectionLost(stream.leaseId());
  }

  /** Forgets queued tasks of a stream whose owner went away. */
  void dropQueued(TaskStream stream) {
    slots.remove(w -> w.stream == stream);
  }

  /**
   * The calling thread's task entered ({@code true}) or left a blocking wait: a {@code get} or
   * {@code wait}, or a producer paused by backpressure. While every running task is blocked the
   * next queued one starts here, and with nothing left to start the CPU is lent to the node (DESIGN
   * "Nested tasks"). Threads that are not running a task of this receiver are ignored.
   */
  public void taskBlocked(boolean blocked) {
    Work w = currentWork.get();
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

  /** Cancels a queued or running task; returns whether it was found here. */
  public boolean cancel(TaskId id) {
    for (Work w : inline) {
      if (w.taskId.equals(id)) {
        w.cancelled = true;
        Thread t = w.thread;
        if (t != null) {
          t.interrupt();
        }
        return true;
      }
    }
    for (Work r : slots.running()) {
      if (r.taskId.equals(id)) {
        r.cancelled = true;
        Thread t = r.thread;
        if (t != null) {
          t.interrupt();
        }
        // Replies held back for batching go now: if the task ignores the interrupt, its owner
        // kills this worker after a grace period, and held replies would be lost with it.
        r.stream.flush();
        return true;
      }
    }
    for (Work w : slots.remove(w -> w.taskId.equals(id))) {
      w.cancelled = true;
      replyError(w, cancelled(w.request.getSpec()));
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
    Work w = new Work(PushTaskRequest.newBuilder().setSpec(spec).build(), null, reply);
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
    for (Work r : slots.running()) {
      if (r.taskId.equals(ctx.taskId())) {
        return r.cancelled;
      }
    }
    for (Work w : inline) {
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
    for (Work r : slots.running()) {
      Thread t = r.thread;
      if (t != null) {
        t.interrupt();
      }
    }
  }

  /** Runs one pushed task to the end, on a thread of its own (see {@link ExecutionSlots}). */
  private void run(Work w) {
    if (stopped) {
      return;
    }
    w.thread = Thread.currentThread();
    currentWork.set(w);
    for (Work other : slots.running()) {
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
  private void executeReportingInternalErrors(Work w) {
    try {
      execute(w);
    } catch (Throwable t) {
      log.error(
          "unexpected failure running task {}{}",
          w.taskId,
          w.inlineReply != null ? " inline" : "",
          t);
      replyError(
          w,
          Errors.error(
              ErrorType.TASK_EXECUTION_EXCEPTION,
              "internal error running task " + w.taskId + ": " + t));
    }
  }

  private void execute(Work w) {
    TaskSpec spec = w.request.getSpec();
    String what =
        "task "
            + w.taskId
            + " ("
            + spec.getDisplayName()
            + ", attempt "
            + spec.getAttemptNumber()
            + ")";
    env.setCurrentTask(new TaskContext(w.taskId, spec.getAttemptNumber(), spec.getDisplayName()));
    FunctionManager.Invoker invoker;
    Object[] args = new Object[spec.getArgsCount()];
    try {
      invoker = functions.resolve(spec.getFunction(), env.location());
      for (int i = 0; i < args.length; i++) {
        args[i] = resolveArg(spec.getArgs(i));
      }
    } catch (FunctionNotFoundException e) {
      replyError(
          w, Errors.error(ErrorType.FUNCTION_NOT_FOUND, what + " cannot run: " + e.getMessage()));
      return;
    } catch (SerializationException e) {
      replyError(
          w,
          Errors.error(
              ErrorType.SERIALIZATION_FAILED,
              what
                  + " on "
                  + env.location()
                  + " could not deserialize its arguments: "
                  + e.getMessage()));
      return;
    } catch (RuntimeException e) {
      // A failure resolving a ref argument (e.g. its owner is gone) fails the task.
      replyApplicationError(w, what, e);
      return;
    }
    Object result = null;
    Throwable thrown = null;
    try {
      result = invoker.invoke(args);
    } catch (Throwable t) {
      thrown = t;
    }
    if (spec.getStreamingGenerator()) {
      runGenerator(w, spec, what, result, thrown);
      return;
    }
    if (w.cancelled) {
      replyError(w, cancelled(spec));
    } else if (thrown != null) {
      replyApplicationError(w, what, thrown);
    } else {
      send(
          w,
          PushTaskReply.newBuilder()
              .addReturns(
                  toValue(result, ObjectId.of(w.taskId, 1), () -> what, spec.getOwner(), false)
                      .join()
                      .setObjectId(ByteString.copyFrom(ObjectId.of(w.taskId, 1).toBytes())))
              .build());
    }
  }

  private void runGenerator(Work w, TaskSpec spec, String what, Object source, Throwable thrown) {
    GeneratorExecution g =
        new GeneratorExecution(
            spec,
            w.taskId,
            w.stream,
            env.address(),
            what,
            env.location(),
            (value, id, item) -> toValue(value, id, item, spec.getOwner(), true),
            () -> w.cancelled,
            env::executionBlocked);
    PushTaskReply reply;
    try {
      reply = g.run(source, thrown);
    } catch (InterruptedException e) {
      replyError(w, cancelled(spec));
      return;
    } catch (GeneratorExecution.RetryableFailure e) {
      replyApplicationError(w, what, e.cause);
      return;
    }
    if (w.cancelled) {
      replyError(w, cancelled(spec));
    } else if (reply != null) {
      send(w, reply);
    }
  }

  /**
   * A returned value as it travels: serialized inline, or the error explaining why it cannot be.
   * Refs nested in it are listed, and the task's owner is registered as their borrower before this
   * returns (see {@link ExecutionEnv#serializeReturn}). The future completes when the value may be
   * sent: at once, unless {@code sealLater} and it is still being sealed in the node's store.
   */
  private CompletableFuture<ReturnObject.Builder> toValue(
      Object value, ObjectId id, Supplier<String> what, Address owner, boolean sealLater) {
    ReturnObject.Builder out = ReturnObject.newBuilder();
    ErrorInfo error;
    try {
      ExecutionEnv.EncodedReturn r = env.encodeReturn(value, id, owner, sealLater);
      out.setValue(r.value());
      if (!r.nestedRefs().isEmpty()) {
        out.addAllNestedRefs(r.nestedRefs());
      }
      return r.sealed()
          .handle(
              (stored, e) ->
                  e == null
                      ? out
                      : out.setValue(
                          Errors.value(
                              Errors.error(
                                  ErrorType.OBJECT_LOST,
                                  what.get()
                                      + " on "
                                      + env.location()
                                      + " could not be stored: "
                                      + (e.getCause() != null ? e.getCause() : e).getMessage()))));
    } catch (SerializationException e) {
      error =
          Errors.error(
              ErrorType.SERIALIZATION_FAILED,
              what.get()
                  + " on "
                  + env.location()
                  + " produced a value that cannot be serialized: "
                  + e.getMessage());
    } catch (ObjectTooLargeException e) {
      error =
          Errors.error(
              ErrorType.OBJECT_TOO_LARGE,
              "the value " + what.get() + " on " + env.location() + " produced: " + e.getMessage());
    } catch (ObjectStoreFullException e) {
      error =
          Errors.error(
              ErrorType.OBJECT_STORE_FULL,
              what.get()
                  + " on "
                  + env.location()
                  + " produced a value that does not fit: "
                  + e.getMessage());
    }
    return CompletableFuture.completedFuture(out.setValue(Errors.value(error)));
  }

  private Object resolveArg(TaskArg arg) {
    if (arg.hasRef()) {
      return env.getValue(ObjectRefImpl.fromInfo(arg.getRef()));
    }
    return serializer.deserialize(arg.getValue().toByteArray());
  }

  private void replyApplicationError(Work w, String what, Throwable t) {
    reply(w, Errors.applicationError(what + " failed on " + env.location() + ": " + t, t), true);
  }

  private void replyError(Work w, ErrorInfo e) {
    reply(w, e, false);
  }

  /** Answers with {@code e} in place of every return value. */
  private void reply(Work w, ErrorInfo e, boolean applicationError) {
    PushTaskReply.Builder b = PushTaskReply.newBuilder().setIsApplicationError(applicationError);
    for (int i = 1; i <= Math.max(1, w.request.getSpec().getNumReturns()); i++) {
      b.addReturns(
          ReturnObject.newBuilder()
              .setObjectId(ByteString.copyFrom(ObjectId.of(w.taskId, i).toBytes()))
              .setValue(Errors.value(e)));
    }
    send(w, b.build());
  }

  private void send(Work w, PushTaskReply reply) {
    env.awaitBorrowRegistrations();
    if (w.inlineReply != null) {
      w.inlineReply.complete(reply);
      return;
    }
    // Hold the reply back only while the next task to run replies on the same stream; never a
    // cancelled task's, whose owner kills the worker if the reply does not come in time.
    Work next = slots.peekQueued();
    w.stream.send(
        w.request.getSpec().getTaskId(),
        reply,
        next != null && next.stream == w.stream && !w.cancelled);
  }

  private ErrorInfo cancelled(TaskSpec spec) {
    return Errors.error(
        ErrorType.TASK_CANCELLED,
        "task "
            + TaskId.fromBytes(spec.getTaskId().toByteArray())
            + " ("
            + spec.getDisplayName()
            + ") was cancelled on "
            + env.location());
  }
}
