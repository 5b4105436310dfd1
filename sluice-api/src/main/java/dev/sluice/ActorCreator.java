package dev.sluice;

import java.io.Serializable;
import java.util.Objects;

/**
 * A prepared actor creation, returned by {@code Sluice.actor(constructor, args...)}. Set {@link
 * #options} and create with {@link #remote()}; each {@code remote()} creates a new actor.
 *
 * @param <A> the actor's class
 */
public final class ActorCreator<A> {
  private final Serializable constructor;
  private final Object[] args;
  private ActorOptions options = ActorOptions.defaults();

  ActorCreator(Serializable constructor, Object[] args) {
    this.constructor = Objects.requireNonNull(constructor, "constructor");
    this.args = args;
  }

  /** Uses these options for the actor. */
  public ActorCreator<A> options(ActorOptions options) {
    this.options = Objects.requireNonNull(options, "options");
    return this;
  }

  /**
   * Creates the actor and returns its handle at once; the actor is placed and its constructor run
   * asynchronously (after any {@link ObjectRef} argument is ready). Calls made through the handle
   * meanwhile wait for it. A constructor that throws makes every call fail with {@link
   * ActorDiedException}.
   *
   * @throws IllegalArgumentException if another live actor has the same name
   * @throws IllegalStateException if Sluice is not initialized
   * @throws SerializationException if an argument cannot be serialized
   */
  public ActorHandle<A> remote() {
    return Sluice.runtime().createActor(constructor, args, options);
  }
}
