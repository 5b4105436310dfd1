package dev.sluice.runtime.executor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.sluice.ActorDiedException;
import dev.sluice.ActorId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.actor.ActorCallQueue;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.ActorCallSpec;
import dev.sluice.runtime.rpc.proto.ActorCreationSpec;
import dev.sluice.runtime.rpc.proto.ActorLifetime;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The actor a worker hosts (DESIGN "Actors"), owned by its {@link TaskReceiver}: runs the creation
 * task's constructor or factory and keeps the instance, its id and lifetime, its {@link
 * ActorCallQueue} (the actor call order rule and its concurrency) and its creator's stream; hands
 * each call to the queue as an {@link ActorCall}; applies cancels, callers that went away, its
 * creator's death ({@code OWNED}: the actor reports {@code OWNER_DIED} and the process exits) and
 * the control service's {@code ExitActor}. A worker hosts at most one actor, for its whole life.
 * Actor calls never use the receiver's {@link ExecutionSlots}: the actor's concurrency is its
 * queue's.
 *
 * <p>Threads: every method is called on transport threads and only queues work, interrupts or
 * starts a thread. The constructor runs on a virtual thread of its own; each call on a fresh
 * virtual thread of the queue's runner; a creator's death is handled on a virtual thread of its
 * own. The creation state is guarded by {@code lock}; the hosted actor is published through a
 * volatile field once its constructor returned.
 */
final class ActorHost {
  private static final Logger log = LoggerFactory.getLogger(ActorHost.class);

  /** How long the process lives on after {@code ExitActor}, so that its reply goes out. */
  private static final long EXIT_DELAY_MILLIS = 200;

  /** Ends the process; replaced in tests. */
  interface ProcessExit {
    /**
     * Ends the process with status 0: with {@code halt} at once ({@code Runtime.halt}), else
     * through {@code System.exit}.
     */
    void exit(boolean halt);

    ProcessExit JVM =
        halt -> {
          if (halt) {
            Runtime.getRuntime().halt(0);
          } else {
            System.exit(0);
          }
        };
  }

  /** The actor, once its constructor returned. */
  private record Hosted(ActorId id, Object instance, ActorCallQueue queue) {}

  private final ExecutionEnv env;
  private final TaskExecution execution;
  private final ProcessExit processExit;

  /** Runs each call on a virtual thread of its own. */
  private final ExecutorService runner =
      Executors.newThreadPerTaskExecutor(
          Thread.ofVirtual().name("sluice-actor-call-", 0).factory());

  /** Calls accepted and not yet answered, by task id (for cancels and broken streams). */
  private final Map<TaskId, ActorCall> calls = new ConcurrentHashMap<>();

  private final AtomicLong finishedCalls = new AtomicLong();
  private final AtomicBoolean creatorGone = new AtomicBoolean();
  private final Object lock = new Object();

  /** The creation task, once it came; its stream is the creator's. */
  @GuardedBy("lock")
  private TaskRun creation;

  /** The constructor threw (or could not run): the creator reports the actor dead. */
  @GuardedBy("lock")
  private boolean constructorFailed;

  private volatile Hosted hosted;

  ActorHost(ExecutionEnv env, TaskExecution execution, ProcessExit processExit) {
    this.env = env;
    this.execution = execution;
    this.processExit = processExit;
  }

  /** True when no call is queued or running here. */
  boolean isIdle() {
    Hosted h = hosted;
    return h == null || (h.queue().runningCount() == 0 && h.queue().queuedCount() == 0);
  }

  /** Calls answered so far. */
  long finishedCalls() {
    return finishedCalls.get();
  }

  /** The hosted actor's id, once its constructor returned. */
  ActorId actorId() {
    Hosted h = hosted;
    return h == null ? null : h.id();
  }

  /**
   * The creation task {@code w} arrived: its constructor or factory runs on a thread of its own;
   * the reply is empty on success (the instance stays here), an application error if it threw.
   */
  void create(TaskRun w) {
    synchronized (lock) {
      if (creation != null) {
        execution.replyError(
            w,
            Errors.error(
                ErrorType.TASK_EXECUTION_EXCEPTION,
                TaskExecution.what(w)
                    + " cannot run on "
                    + env.location()
                    + ": it already hosts actor "
                    + describe(creation)),
            this::reply);
        return;
      }
      creation = w;
    }
    Thread.ofVirtual().name("sluice-actor-creation").start(() -> construct(w));
  }

  private void construct(TaskRun w) {
    ActorCreationSpec c = w.request.getSpec().getActorCreation();
    ActorId id = ActorId.fromBytes(c.getActorId().toByteArray());
    w.thread = Thread.currentThread();
    boolean ok = false;
    try {
      TaskExecution.Outcome o = execution.invoke(w, id, null, this::reply);
      if (o == null) {
        return;
      }
      Throwable thrown = o.thrown();
      if (thrown == null && o.result() == null) {
        thrown = new IllegalStateException(o.what() + " returned null instead of an actor");
      }
      if (thrown != null) {
        log.info("the constructor of actor {} threw: {}", describe(w), thrown.toString());
        execution.replyApplicationError(w, o.what(), thrown, this::reply);
        return;
      }
      hosted =
          new Hosted(
              id, o.result(), ActorCallQueue.forActor(Math.max(1, c.getMaxConcurrency()), runner));
      ok = true;
      log.info("actor {} created on {}", describe(w), env.location());
      reply(w, PushTaskReply.getDefaultInstance());
    } catch (Throwable t) {
      log.error("unexpected failure creating actor {}", describe(w), t);
      execution.replyError(w, execution.replies().internalError(w.taskId, t), this::reply);
    } finally {
      w.thread = null;
      env.setCurrentTask(null);
      if (!ok) {
        synchronized (lock) {
          constructorFailed = true;
        }
      }
    }
  }

  /**
   * The call {@code w} arrived in a batch whose caller reported every call below {@code
   * processedUpTo} processed: it goes to the actor's queue.
   */
  void call(TaskRun w, long processedUpTo) {
    ActorCallSpec c = w.request.getSpec().getActorCall();
    WorkerId caller = WorkerId.fromBytes(c.getCallerId().toByteArray());
    w.stream.actorCaller = caller;
    Hosted h = hosted;
    ActorId wanted = ActorId.fromBytes(c.getActorId().toByteArray());
    if (h == null || !h.id().equals(wanted)) {
      execution.replyError(
          w,
          Errors.error(
              ErrorType.TASK_EXECUTION_EXCEPTION,
              TaskExecution.what(w)
                  + " of actor "
                  + wanted
                  + " cannot run on "
                  + env.location()
                  + ": "
                  + (h == null ? "no actor is alive there" : "it hosts actor " + h.id())),
          this::reply);
      return;
    }
    ActorCall call = new ActorCall(w, h.id(), h.instance(), execution, env);
    if (calls.putIfAbsent(w.taskId, call) != null) {
      execution.replyError(
          w,
          Errors.error(
              ErrorType.TASK_EXECUTION_EXCEPTION,
              TaskExecution.what(w) + " is a duplicate of a call running on " + env.location()),
          this::reply);
      return;
    }
    call.done()
        .whenComplete(
            (v, e) -> {
              calls.remove(w.taskId, call);
              finishedCalls.incrementAndGet();
            });
    h.queue().offer(caller, c.getSequenceNumber(), processedUpTo, call);
  }

  /** A batch without calls from the caller behind {@code stream} carried {@code processedUpTo}. */
  void advance(TaskStream stream, long processedUpTo) {
    WorkerId caller = stream.actorCaller;
    Hosted h = hosted;
    if (caller != null && h != null) {
      h.queue().advance(caller, processedUpTo);
    }
  }

  /**
   * Cancels the call of task {@code id}: a queued one never runs (answered as cancelled), a running
   * one is interrupted. False if no such call is here.
   */
  boolean cancel(TaskId id) {
    ActorCall call = calls.get(id);
    if (call == null) {
      return false;
    }
    Hosted h = hosted;
    if (h == null || !h.queue().cancel(id)) {
      call.cancel();
    }
    return true;
  }

  /**
   * {@code stream} ended, closed by its sender or broken. For the creator's stream: an {@code
   * OWNED} actor's creator is gone, so the actor reports its death and the process exits; a {@code
   * DETACHED} actor lives on (once created). For a caller's stream: its queued calls are dropped,
   * and when it broke, its running calls are interrupted (nobody can take their results).
   *
   * @return whether {@code stream} was an actor's stream (the creator's or a caller's)
   */
  boolean streamEnded(TaskStream stream, boolean broken) {
    TaskRun created;
    synchronized (lock) {
      created = creation;
    }
    if (created != null && created.stream == stream) {
      if (creatorGone.compareAndSet(false, true)) {
        Thread.ofVirtual().name("sluice-actor-creator-gone").start(() -> creatorGone(created));
      }
      return true;
    }
    WorkerId caller = stream.actorCaller;
    if (caller == null) {
      return false;
    }
    Hosted h = hosted;
    if (h != null) {
      int dropped = h.queue().callerGone(caller);
      if (dropped > 0) {
        log.info("dropped {} queued call(s) of caller {}: its stream ended", dropped, caller);
      }
    }
    if (broken) {
      for (ActorCall call : calls.values()) {
        if (call.run.stream == stream) {
          log.info("actor call {} cancelled: its caller {} is gone", call.run.taskId, caller);
          call.cancel();
        }
      }
    }
    return true;
  }

  private void creatorGone(TaskRun created) {
    TaskSpec spec = created.request.getSpec();
    ActorCreationSpec c = spec.getActorCreation();
    Hosted h = hosted;
    boolean failed;
    synchronized (lock) {
      failed = constructorFailed;
    }
    if (failed) {
      log.info(
          "the creator of actor {} closed its stream after the constructor failed: exiting",
          describe(created));
      processExit.exit(false);
      return;
    }
    if (c.getLifetime() == ActorLifetime.ACTOR_LIFETIME_DETACHED && h != null) {
      log.info("the creator of detached actor {} is gone; the actor lives on", describe(created));
      return;
    }
    String message =
        "actor "
            + describe(created)
            + " on "
            + env.location()
            + " died: its creator (process "
            + Addresses.workerId(spec.getOwner())
            + " on node "
            + Addresses.nodeId(spec.getOwner())
            + ") died or closed its connection"
            + (h == null ? " before the constructor returned" : "");
    if (h != null) {
      h.queue().close("its creator is gone");
    }
    if (c.getLifetime() == ActorLifetime.ACTOR_LIFETIME_OWNED) {
      try {
        env.reportActorDead(
            ActorId.fromBytes(c.getActorId().toByteArray()),
            spec.getAttemptNumber(),
            Errors.actorDied(ActorDiedException.Reason.OWNER_DIED, message, null));
      } catch (RuntimeException e) {
        log.warn("could not report the death of actor {}: {}", describe(created), e.toString());
      }
      log.info("{}; exiting", message);
    } else {
      log.info(
          "the creator of detached actor {} went before it was created: exiting",
          describe(created));
    }
    processExit.exit(false);
  }

  /**
   * The control service says actor {@code id} was killed ({@code Sluice.kill}; its table already
   * says {@code DEAD}): nothing more starts, and the process halts shortly after, once the answer
   * to {@code ExitActor} went out. False if this worker does not host {@code id}.
   */
  boolean exit(ActorId id, String reason) {
    TaskRun created;
    synchronized (lock) {
      created = creation;
    }
    if (created == null
        || !ActorId.fromBytes(
                created.request.getSpec().getActorCreation().getActorId().toByteArray())
            .equals(id)) {
      log.warn("told to exit actor {}, which this worker does not host", id);
      return false;
    }
    log.info(
        "actor {} killed (Sluice.kill){}",
        describe(created),
        reason.isEmpty() ? "" : ": " + reason);
    Hosted h = hosted;
    if (h != null) {
      h.queue().close("it was killed");
    }
    CompletableFuture.delayedExecutor(EXIT_DELAY_MILLIS, TimeUnit.MILLISECONDS)
        .execute(() -> processExit.exit(true));
    return true;
  }

  /** The worker is stopping: nothing more starts, and running calls are interrupted. */
  void stop() {
    Hosted h = hosted;
    if (h != null) {
      h.queue().close("its worker is stopping");
    }
    calls.values().forEach(ActorCall::cancel);
    runner.shutdown();
  }

  /** Names the actor of creation task {@code w}: its class and id (and name, if any). */
  private static String describe(TaskRun w) {
    ActorCreationSpec c = w.request.getSpec().getActorCreation();
    return c.getClassName()
        + " "
        + ActorId.fromBytes(c.getActorId().toByteArray())
        + (c.getName().isEmpty() ? "" : " '" + c.getName() + "'");
  }

  /** Sends a reply on its run's stream at once. */
  private void reply(TaskRun w, PushTaskReply reply) {
    env.awaitBorrowRegistrations();
    w.stream.send(w.request.getSpec().getTaskId(), reply, false);
  }
}
