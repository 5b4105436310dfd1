package dev.sluice;

import java.io.Serializable;
import java.util.Objects;

/**
 * A prepared streaming generator call, returned by {@code Sluice.generator(f, args...)} and {@code
 * Sluice.asyncGenerator(f, args...)}. Set {@link #options} and submit with {@link #remote()}; each
 * {@code remote()} is a new task.
 *
 * @param <T> the type of the items the generator yields
 */
public final class GeneratorCaller<T> {
  /** How the function produces its items. */
  @Internal
  public enum Kind {
    /** The function returns a {@link java.util.Iterator}. */
    ITERATOR,
    /** The function returns a {@link java.util.concurrent.Flow.Publisher}. */
    PUBLISHER
  }

  private final Serializable function;
  private final Object[] args;
  private final Kind kind;
  private final ActorHandle<?> actor;
  private TaskOptions options = TaskOptions.defaults();

  GeneratorCaller(Serializable function, Object[] args, Kind kind) {
    this(null, function, args, kind);
  }

  /** A call of an actor's generator method. */
  GeneratorCaller(ActorHandle<?> actor, Serializable function, Object[] args, Kind kind) {
    this.function = Objects.requireNonNull(function, "function");
    this.args = args;
    this.kind = kind;
    this.actor = actor;
  }

  /** Uses these options for the call, e.g. {@code generatorBackpressureNumObjects}. */
  public GeneratorCaller<T> options(TaskOptions options) {
    this.options = Objects.requireNonNull(options, "options");
    return this;
  }

  /**
   * Submits the generator task and returns its stream at once; items arrive while the task runs.
   *
   * @throws IllegalStateException if Sluice is not initialized
   * @throws SerializationException if an argument cannot be serialized
   */
  public ObjectRefGenerator<T> remote() {
    if (actor != null) {
      return Sluice.runtime().submitActorGenerator(actor, function, args, options, kind);
    }
    return Sluice.runtime().submitGenerator(function, args, options, kind);
  }
}
