package dev.sluice.runtime.executor;

import dev.sluice.ActorId;
import dev.sluice.FunctionNotFoundException;
import dev.sluice.SerializationException;
import dev.sluice.runtime.common.TaskContext;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.TaskArg;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.serial.ObjectSerializer;

/**
 * Runs the function of one task in this worker, the same way for a task, an actor's creation and a
 * call of an actor's method (DESIGN "Execution"): makes it the calling thread's current task,
 * resolves its function and arguments (ref arguments are fetched here), invokes it (an actor call
 * with the actor's instance as its first argument, as a method reference's implementation takes its
 * receiver first), and turns the outcome into the task's reply ({@link TaskReplies}), streaming a
 * generator's items ({@link GeneratorExecution}). Where a reply goes is the caller's choice: a
 * {@link Replier}.
 *
 * <p>Threads: keeps no state of its own; called on the thread that runs the task (for an async
 * actor call, {@link #finish} runs on the thread that encodes its value once its stage completes).
 */
final class TaskExecution {
  /** Where the reply of a run goes. */
  interface Replier {
    void send(TaskRun w, PushTaskReply reply);
  }

  /** What invoking a task's function gave: its result, or what it threw. */
  record Outcome(String what, Object result, Throwable thrown) {}

  private final ExecutionEnv env;
  private final ObjectSerializer serializer;
  private final FunctionManager functions;
  private final TaskReplies replies;

  TaskExecution(ExecutionEnv env, ObjectSerializer serializer) {
    this.env = env;
    this.serializer = serializer;
    this.functions = new FunctionManager(serializer);
    this.replies = new TaskReplies(env);
  }

  TaskReplies replies() {
    return replies;
  }

  /** Runs a task to the end and replies to it through {@code out}. */
  void run(TaskRun w, Replier out) {
    Outcome o = invoke(w, null, null, out);
    if (o != null) {
      finish(w, o, out);
    }
  }

  /** Names a run in messages: "task T (Name, attempt N)". */
  static String what(TaskRun w) {
    TaskSpec spec = w.request.getSpec();
    return "task "
        + w.taskId
        + " ("
        + spec.getDisplayName()
        + ", attempt "
        + spec.getAttemptNumber()
        + ")";
  }

  /**
   * Makes {@code w} the calling thread's current task (a constructor or method of actor {@code
   * actorId} when it is not null), resolves its function and arguments, and invokes it, with {@code
   * instance} as its first argument when not null.
   *
   * @return what the function returned or threw, or null if it could not be invoked (its arguments
   *     or function could not be had): the error reply went to {@code out}
   */
  Outcome invoke(TaskRun w, ActorId actorId, Object instance, Replier out) {
    TaskSpec spec = w.request.getSpec();
    String what = what(w);
    env.taskStarted(spec);
    env.setCurrentTask(
        new TaskContext(w.taskId, spec.getAttemptNumber(), spec.getDisplayName(), actorId));
    FunctionManager.Invoker invoker;
    int first = instance == null ? 0 : 1;
    Object[] args = new Object[first + spec.getArgsCount()];
    try {
      invoker = functions.resolve(spec.getFunction(), env.location());
      if (instance != null) {
        args[0] = instance;
      }
      for (int i = 0; i < spec.getArgsCount(); i++) {
        args[first + i] = resolveArg(spec.getArgs(i));
      }
    } catch (FunctionNotFoundException e) {
      replyError(w, replies.functionNotFound(what, e), out);
      return null;
    } catch (SerializationException e) {
      replyError(w, replies.argumentsUnreadable(what, e), out);
      return null;
    } catch (RuntimeException e) {
      // A failure resolving a ref argument (e.g. its owner is gone) fails the task.
      replyApplicationError(w, what, e, out);
      return null;
    }
    try {
      return new Outcome(what, invoker.invoke(args), null);
    } catch (Throwable t) {
      return new Outcome(what, null, t);
    }
  }

  /**
   * Replies to {@code w} with its outcome: its return value, its application error, or that it was
   * cancelled; a streaming generator's items are streamed first, and its final reply follows.
   */
  void finish(TaskRun w, Outcome o, Replier out) {
    TaskSpec spec = w.request.getSpec();
    if (spec.getStreamingGenerator()) {
      runGenerator(w, spec, o.what(), o.result(), o.thrown(), out);
      return;
    }
    if (w.cancelled) {
      replyError(w, replies.cancelled(spec), out);
    } else if (o.thrown() != null) {
      replyApplicationError(w, o.what(), o.thrown(), out);
    } else {
      out.send(w, replies.returned(w.taskId, o.result(), o.what(), spec.getOwner()));
    }
  }

  private void runGenerator(
      TaskRun w, TaskSpec spec, String what, Object source, Throwable thrown, Replier out) {
    GeneratorExecution g =
        new GeneratorExecution(
            spec,
            w.taskId,
            w.stream,
            env.address(),
            what,
            env.location(),
            (value, id, item) -> replies.returnValue(value, id, item, spec.getOwner(), true),
            () -> w.cancelled,
            env::executionBlocked);
    PushTaskReply reply;
    try {
      reply = g.run(source, thrown);
    } catch (InterruptedException e) {
      replyError(w, replies.cancelled(spec), out);
      return;
    } catch (GeneratorExecution.RetryableFailure e) {
      replyApplicationError(w, what, e.cause, out);
      return;
    }
    if (w.cancelled) {
      replyError(w, replies.cancelled(spec), out);
    } else if (reply != null) {
      out.send(w, reply);
    }
  }

  private Object resolveArg(TaskArg arg) {
    if (arg.hasRef()) {
      return env.getValue(ObjectRefImpl.fromInfo(arg.getRef()));
    }
    return serializer.deserialize(arg.getValue().toByteArray());
  }

  /** Replies that {@code what} failed in its code with {@code t} (an application error). */
  void replyApplicationError(TaskRun w, String what, Throwable t, Replier out) {
    out.send(w, replies.failed(w.request.getSpec(), replies.applicationError(what, t), true));
  }

  /** Replies {@code e} in place of every return value of {@code w}. */
  void replyError(TaskRun w, ErrorInfo e, Replier out) {
    out.send(w, replies.failed(w.request.getSpec(), e, false));
  }
}
