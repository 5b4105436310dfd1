package dev.sluice;

import java.io.Serializable;
import java.util.Objects;

/**
 * A prepared remote call, returned by {@code Sluice.task(f, args...)} and by an {@link
 * ActorHandle}'s {@code task} and {@code asyncTask}. Set {@link #options} and submit with {@link
 * #remote()}. A caller may be submitted more than once; each {@code remote()} is a new task.
 *
 * @param <R> the function's return type
 */
public final class TaskCaller<R> {
  private final Serializable function;
  private final Object[] args;
  private final ActorHandle<?> actor;
  private final boolean async;
  private TaskOptions options = TaskOptions.defaults();

  TaskCaller(Serializable function, Object[] args) {
    this(null, function, args, false);
  }

  /** A call of an actor method; {@code async} when the method returns a {@code CompletionStage}. */
  TaskCaller(ActorHandle<?> actor, Serializable function, Object[] args, boolean async) {
    this.function = Objects.requireNonNull(function, "function");
    this.args = args;
    this.actor = actor;
    this.async = async;
  }

  /** Uses these options for the call. */
  public TaskCaller<R> options(TaskOptions options) {
    this.options = Objects.requireNonNull(options, "options");
    return this;
  }

  /**
   * Submits the task and returns a ref to its result at once; the task runs asynchronously.
   *
   * @throws IllegalStateException if Sluice is not initialized
   * @throws SerializationException if an argument cannot be serialized
   */
  public ObjectRef<R> remote() {
    if (actor != null) {
      return Sluice.runtime().submitActorTask(actor, function, args, options, async);
    }
    return Sluice.runtime().submitTask(function, args, options);
  }
}
