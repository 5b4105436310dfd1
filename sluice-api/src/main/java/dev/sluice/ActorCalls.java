package dev.sluice;

import java.io.Serializable;

/**
 * The call methods of {@link ActorHandle}. The arity overloads ({@code task}, {@code generator},
 * {@code asyncGenerator}, {@code asyncTask}) are generated; they all end in these two hooks.
 *
 * @param <A> the actor's class
 */
public abstract class ActorCalls<A> {
  ActorCalls() {}

  abstract <R> TaskCaller<R> taskCall(Serializable method, Object[] args, boolean async);

  abstract <T> GeneratorCaller<T> generatorCall(
      Serializable method, Object[] args, GeneratorCaller.Kind kind);
}
