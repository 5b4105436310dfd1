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
import dev.sluice.runtime.rpc.proto.ObjectRefInfo;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.TaskArg;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.serial.ObjectSerializer;
import io.grpc.stub.StreamObserver;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor side of a worker: receives pushed tasks and runs them one at a time, in arrival
 * order, on one execution thread, then answers each {@code PushTask} with the task's return
 * objects (or its error).
 *
 * <p>Threads: {@link #push} and {@link #cancel} run on transport threads and only queue work or
 * interrupt; the execution thread (owned by this class, started by {@link #start}) runs user
 * code. Cancellation of the running task interrupts that thread. One report sender thread (also
 * owned here) sends streaming generator reports that producers did not send themselves.
 */
public final class TaskReceiver {
  private static final Logger log = LoggerFactory.getLogger(TaskReceiver.class);

  private final ExecutionEnv env;
  private final ObjectSerializer serializer;
  private final FunctionManager functions;
  private final LinkedBlockingDeque<Work> queue = new LinkedBlockingDeque<>();
  private final Thread executionThread;
  private final ExecutorService reportSender = Executors.newSingleThreadExecutor(
      Thread.ofPlatform().daemon().name("sluice-report-sender").factory());
  private volatile Work running;
  /** Tasks run to the end on the execution thread; written only by it. */
  private volatile long finishedTasks;
  private volatile boolean stopped;

  /** What the receiver needs from the core worker it belongs to. */
  public interface ExecutionEnv {
    /** Where tasks run, for messages: "node N, worker W". */
    String location();

    /** Blocks for the value of a borrowed or owned object. */
    Object getValue(ObjectRefImpl<?> ref);

    /** Makes {@code ctx} the current task of the calling thread (null clears it). */
    void setCurrentTask(TaskContext ctx);

    /** The transport's message limit. */
    int maxMessageBytes();

    /** This process's address, named in generator reports. */
    Address address();

    /**
     * Encodes a task's return value (or streamed item) {@code id}: inline, or written to the
     * node's shared-memory store when over the inline threshold. The refs nested in it are
     * listed, and {@code taskOwner} has been registered as a borrower of each when this
     * returns, so they outlive this process's own copies until the owner counts them.
     *
     * With {@code sealLater}, a value written to the store may still be sealing on return: it
     * must not reach a reader before {@link EncodedReturn#sealed} completes.
     *
     * @throws SerializationException if the value cannot be serialized
     * @throws ObjectStoreFullException if it is large and the store has no room
     * @throws ObjectTooLargeException if it can neither travel inline nor fit the store
     */
    EncodedReturn encodeReturn(Object value, ObjectId id, Address taskOwner, boolean sealLater);

    /**
     * Waits until the borrows this process took on refs it deserialized are registered with
     * their owners: called before a task's reply releases the arguments that kept them alive.
     */
    void awaitBorrowRegistrations();

    /**
     * The owner's task stream broke (its process or node died, or the network failed): the
     * lease this worker serves will never be returned by the owner, so it is given back here.
     */
    void ownerConnectionLost();

    /**
     * An encoded return value and the refs nested in it; readable once {@code sealed} completes
     * (exceptionally if the store refused it).
     */
    record EncodedReturn(ObjectValue value, List<ObjectRefInfo> nestedRefs,
        java.util.concurrent.CompletableFuture<Void> sealed) {}
  }

  private static final class Work {
    final PushTaskRequest request;
    final TaskStream stream;
    final TaskId taskId;
    volatile boolean cancelled;

    Work(PushTaskRequest request, TaskStream stream) {
      this.request = request;
      this.stream = stream;
      this.taskId = TaskId.fromBytes(request.getSpec().getTaskId().toByteArray());
    }
  }

  /** A receiver running tasks in {@code env}. */
  public TaskReceiver(ExecutionEnv env, ObjectSerializer serializer) {
    this.env = env;
    this.serializer = serializer;
    this.functions = new FunctionManager(serializer);
    this.executionThread = Thread.ofPlatform().name("sluice-task-executor").daemon()
        .unstarted(this::loop);
  }

  /** True when no task is running or queued here. */
  public boolean isIdle() {
    return running == null && queue.isEmpty();
  }

  /** Tasks this receiver has run to the end (any outcome). */
  public long finishedTasks() {
    return finishedTasks;
  }

  /** Starts the execution thread. */
  public void start() {
    executionThread.start();
  }

  /** Opens the worker's end of a lease's task stream; {@code out} carries the replies. */
  public StreamObserver<PushTaskBatch> openTaskStream(StreamObserver<TaskResultBatch> out) {
    return new TaskStream(this, out, reportSender, env.maxMessageBytes());
  }

  void push(PushTaskRequest request, TaskStream stream) {
    queue.add(new Work(request, stream));
  }

  /** True when the next task to run is one of {@code stream}'s. */
  boolean nextQueuedIsOf(TaskStream stream) {
    Work next = queue.peek();
    return next != null && next.stream == stream;
  }

  /** Sends every queued task of {@code stream} back to its owner, which stole them. */
  void returnQueued(TaskStream stream) {
    for (Iterator<Work> it = queue.iterator(); it.hasNext(); ) {
      Work w = it.next();
      if (w.stream == stream && queue.removeFirstOccurrence(w)) {
        stream.send(w.request.getSpec().getTaskId(),
            PushTaskReply.newBuilder().setRequeue(true).setStolen(true).build(), true);
      }
    }
  }

  /**
   * The owner behind {@code stream} is gone (the stream failed, not closed): its running task is
   * cancelled, as nobody can take its result (Ray does the same for a dead owner's tasks), and
   * the lease goes back to the node.
   */
  void ownerLost(TaskStream stream) {
    Work r = running;
    if (r != null && r.stream == stream) {
      log.info("task {} cancelled: its owner is gone", r.taskId);
      cancel(r.taskId);
    }
    env.ownerConnectionLost();
  }

  /** Forgets queued tasks of a stream whose owner went away. */
  void dropQueued(TaskStream stream) {
    queue.removeIf(w -> w.stream == stream);
  }

  /**
   * Called on the execution thread when the running task blocks waiting for objects: every
   * queued task goes back to its owner, since the blocked task may be waiting for one of them.
   */
  public void onExecutionBlocked() {
    if (Thread.currentThread() != executionThread) {
      return;
    }
    Work w;
    while ((w = queue.poll()) != null) {
      w.stream.send(w.request.getSpec().getTaskId(),
          PushTaskReply.newBuilder().setRequeue(true).build(), false);
    }
  }

  /** Cancels a queued or running task; returns whether it was found here. */
  public boolean cancel(TaskId id) {
    boolean found = false;
    Work r = running;
    if (r != null && r.taskId.equals(id)) {
      r.cancelled = true;
      executionThread.interrupt();
      found = true;
    } else {
      for (Iterator<Work> it = queue.iterator(); it.hasNext(); ) {
        Work w = it.next();
        if (w.taskId.equals(id)) {
          it.remove();
          w.cancelled = true;
          replyError(w, cancelled(w.request.getSpec()));
          found = true;
          break;
        }
      }
    }
    return found;
  }

  /** Stops taking new tasks. */
  public void stop() {
    stopped = true;
    reportSender.shutdownNow();
    executionThread.interrupt();
  }

  private void loop() {
    while (!stopped) {
      Work w;
      try {
        w = queue.take();
      } catch (InterruptedException e) {
        continue;
      }
      running = w;
      try {
        execute(w);
      } catch (Throwable t) {
        log.error("unexpected failure running task {}", w.taskId, t);
        replyError(w, Errors.error(ErrorType.TASK_EXECUTION_EXCEPTION,
            "internal error running task " + w.taskId + ": " + t));
      } finally {
        running = null;
        finishedTasks++;
        Thread.interrupted();
        env.setCurrentTask(null);
      }
    }
  }

  private void execute(Work w) {
    TaskSpec spec = w.request.getSpec();
    String what = "task " + w.taskId + " (" + spec.getDisplayName() + ", attempt "
        + spec.getAttemptNumber() + ")";
    env.setCurrentTask(new TaskContext(w.taskId, spec.getAttemptNumber(), spec.getDisplayName()));
    FunctionManager.Invoker invoker;
    Object[] args = new Object[spec.getArgsCount()];
    try {
      invoker = functions.resolve(spec.getFunction(), env.location());
      for (int i = 0; i < args.length; i++) {
        args[i] = resolveArg(spec.getArgs(i));
      }
    } catch (FunctionNotFoundException e) {
      replyError(w, Errors.error(ErrorType.FUNCTION_NOT_FOUND, what + " cannot run: "
          + e.getMessage()));
      return;
    } catch (SerializationException e) {
      replyError(w, Errors.error(ErrorType.SERIALIZATION_FAILED, what + " on " + env.location()
          + " could not deserialize its arguments: " + e.getMessage()));
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
      send(w, PushTaskReply.newBuilder()
          .addReturns(toValue(result, ObjectId.of(w.taskId, 1), () -> what, spec.getOwner(), false)
              .join().setObjectId(ByteString.copyFrom(ObjectId.of(w.taskId, 1).toBytes())))
          .build());
    }
  }

  private void runGenerator(Work w, TaskSpec spec, String what, Object source, Throwable thrown) {
    GeneratorExecution g = new GeneratorExecution(spec, w.taskId, w.stream, env.address(), what,
        env.location(), (value, id, item) -> toValue(value, id, item, spec.getOwner(), true),
        () -> w.cancelled);
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
   * A returned value as it travels: serialized inline, or the error explaining why it cannot
   * be. Refs nested in it are listed, and the task's owner is registered as their borrower
   * before this returns (see {@link ExecutionEnv#serializeReturn}). The future completes when
   * the value may be sent: at once, unless {@code sealLater} and it is still being sealed in
   * the node's store.
   */
  private CompletableFuture<ReturnObject.Builder> toValue(Object value, ObjectId id,
      Supplier<String> what, Address owner, boolean sealLater) {
    ReturnObject.Builder out = ReturnObject.newBuilder();
    ErrorInfo error;
    try {
      ExecutionEnv.EncodedReturn r = env.encodeReturn(value, id, owner, sealLater);
      out.setValue(r.value());
      if (!r.nestedRefs().isEmpty()) {
        out.addAllNestedRefs(r.nestedRefs());
      }
      return r.sealed().handle((sealed, e) -> e == null ? out
          : out.setValue(Errors.value(Errors.error(ErrorType.OBJECT_LOST, what.get() + " on "
              + env.location() + " could not be stored: "
              + (e.getCause() != null ? e.getCause() : e).getMessage()))));
    } catch (SerializationException e) {
      error = Errors.error(ErrorType.SERIALIZATION_FAILED, what.get() + " on " + env.location()
          + " produced a value that cannot be serialized: " + e.getMessage());
    } catch (ObjectStoreFullException e) {
      error = Errors.error(ErrorType.OBJECT_STORE_FULL, what.get() + " on " + env.location()
          + " produced a value that does not fit: " + e.getMessage());
    } catch (ObjectTooLargeException e) {
      error = Errors.error(ErrorType.OBJECT_TOO_LARGE, "the value " + what.get() + " on "
          + env.location() + " produced: " + e.getMessage());
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
      b.addReturns(ReturnObject.newBuilder()
          .setObjectId(ByteString.copyFrom(ObjectId.of(w.taskId, i).toBytes()))
          .setValue(Errors.value(e)));
    }
    send(w, b.build());
  }

  private void send(Work w, PushTaskReply reply) {
    env.awaitBorrowRegistrations();
    // Hold the reply back only while the next task to run replies on the same stream.
    Work next = queue.peek();
    w.stream.send(w.request.getSpec().getTaskId(), reply, next != null && next.stream == w.stream);
  }

  private ErrorInfo cancelled(TaskSpec spec) {
    return Errors.error(ErrorType.TASK_CANCELLED, "task "
        + TaskId.fromBytes(spec.getTaskId().toByteArray()) + " (" + spec.getDisplayName()
        + ") was cancelled on " + env.location());
  }
}
