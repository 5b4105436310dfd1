package dev.sluice.runtime.executor;

import dev.sluice.ActorId;
import dev.sluice.TaskId;
import dev.sluice.runtime.actor.ActorCallQueue;
import dev.sluice.runtime.actor.CallRejection;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call of the hosted actor's method, as its {@link ActorCallQueue} runs it (DESIGN "Actors"):
 * it runs through the task execution path ({@link TaskExecution}) with the instance as the
 * function's first argument and replies on its caller's stream exactly once: its result, its error,
 * that it was cancelled, or why the queue rejected it. A generator method streams its items as a
 * generator task does. An async method's {@link CompletionStage} holds the call's permit but no
 * thread: its value is encoded and replied on a fresh virtual thread when it completes.
 *
 * <p>Threads: {@link #start} runs on a virtual thread of the actor's call runner; {@link #cancel}
 * and {@link #rejected} on transport threads; an async call's completion on a virtual thread of its
 * own. The reply is sent once, guarded by {@code answered}.
 */
final class ActorCall implements ActorCallQueue.Call {
  private static final Logger log = LoggerFactory.getLogger(ActorCall.class);

  final TaskRun run;
  private final TaskSpec spec;
  private final ActorId actorId;
  private final Object instance;
  private final TaskExecution execution;
  private final ExecutionEnv env;

  /** Completes when the call is over (replied): the queue releases its permit then. */
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  private final AtomicBoolean answered = new AtomicBoolean();

  /** An async call's pending stage, once its method returned it. */
  private volatile CompletionStage<?> pending;

  ActorCall(
      TaskRun run, ActorId actorId, Object instance, TaskExecution execution, ExecutionEnv env) {
    this.run = run;
    this.spec = run.request.getSpec();
    this.actorId = actorId;
    this.instance = instance;
    this.execution = execution;
    this.env = env;
  }

  @Override
  public TaskId taskId() {
    return run.taskId;
  }

  /** Completes when the call has been answered (or dropped without an answer). */
  CompletableFuture<Void> done() {
    return done;
  }

  @Override
  public CompletionStage<?> start() {
    run.thread = Thread.currentThread();
    boolean async = false;
    try {
      if (run.cancelled) {
        execution.replyError(run, execution.replies().cancelled(spec), this::send);
        return done;
      }
      TaskExecution.Outcome o = execution.invoke(run, actorId, instance, this::send);
      if (o == null) {
        return done;
      }
      if (!returnsStage() || o.thrown() != null) {
        execution.finish(run, o, this::send);
        return done;
      }
      if (!(o.result() instanceof CompletionStage<?> stage)) {
        execution.replyApplicationError(
            run,
            o.what(),
            new IllegalStateException(
                o.what()
                    + " is an async actor method but returned "
                    + (o.result() == null ? "null" : o.result().getClass().getName())
                    + " instead of a CompletionStage"),
            this::send);
        return done;
      }
      async = true;
      pending = stage;
      stage.whenComplete(
          (value, failure) ->
              Thread.ofVirtual()
                  .name("sluice-actor-async-" + run.taskId)
                  .start(() -> completed(o.what(), value, failure)));
      if (run.cancelled) {
        cancelPending();
      }
      return done;
    } catch (Throwable t) {
      log.error("unexpected failure running actor call {}", run.taskId, t);
      execution.replyError(run, execution.replies().internalError(run.taskId, t), this::send);
      return done;
    } finally {
      run.thread = null;
      Thread.interrupted();
      env.setCurrentTask(null);
      if (!async) {
        done.complete(null);
      }
    }
  }

  /** An async method's stage completed: its value (or failure) is encoded and replied. */
  private void completed(String what, Object value, Throwable failure) {
    try {
      Throwable thrown =
          failure instanceof CompletionException && failure.getCause() != null
              ? failure.getCause()
              : failure;
      execution.finish(run, new TaskExecution.Outcome(what, value, thrown), this::send);
    } catch (Throwable t) {
      log.error("unexpected failure replying to actor call {}", run.taskId, t);
      execution.replyError(run, execution.replies().internalError(run.taskId, t), this::send);
    } finally {
      done.complete(null);
    }
  }

  @Override
  public void rejected(CallRejection rejection) {
    try {
      switch (rejection.reason()) {
        case CANCELLED ->
            execution.replyError(run, execution.replies().cancelled(spec), this::send);
        case DUPLICATE, CALLER_GONE ->
            // The caller never sends a number twice on purpose: the error is for a stale copy,
            // so that nothing waits for a call that will not run.
            execution.replyError(
                run,
                Errors.error(
                    ErrorType.TASK_EXECUTION_EXCEPTION,
                    rejection.message() + " (on " + env.location() + ")"),
                this::send);
        case CLOSED ->
            // The actor is exiting: its callers learn why from the actor table.
            log.debug("{}", rejection.message());
      }
    } finally {
      done.complete(null);
    }
  }

  /**
   * Cancels the call once it runs or while it is about to: its thread is interrupted, and a pending
   * async call is answered as cancelled at once (its stage is cancelled if it allows), which frees
   * the actor's permit.
   */
  void cancel() {
    run.cancel();
    cancelPending();
  }

  private void cancelPending() {
    CompletionStage<?> stage = pending;
    if (stage == null) {
      return;
    }
    try {
      stage.toCompletableFuture().cancel(true);
    } catch (UnsupportedOperationException e) {
      // a stage that cannot be cancelled completes on its own; its value is then dropped
    }
    execution.replyError(run, execution.replies().cancelled(spec), this::send);
    done.complete(null);
  }

  /** True for an async method returning a value (an async generator returns a publisher). */
  private boolean returnsStage() {
    return spec.getActorCall().getAsync() && !spec.getStreamingGenerator();
  }

  private void send(TaskRun w, PushTaskReply reply) {
    if (!answered.compareAndSet(false, true)) {
      return;
    }
    env.awaitBorrowRegistrations();
    w.stream.send(spec.getTaskId(), reply, false);
  }
}
