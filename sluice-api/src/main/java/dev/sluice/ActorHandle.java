package dev.sluice;

import java.io.Serial;
import java.io.Serializable;
import java.util.Objects;

/**
 * A handle to an actor: call its methods with {@code task}, {@code generator}, {@code
 * asyncGenerator} and {@code asyncTask}, each taking a method reference ({@code Counter::add}) and
 * its arguments (values or {@link ObjectRef}s). Calls made through one handle run in the order they
 * were made when the actor's {@code maxConcurrency} is 1.
 *
 * <p>Handles are serializable: pass one to tasks and other actors, return it from a task or {@code
 * put} it; every holder can call the actor. A handle does not keep the actor alive: an {@link
 * ActorLifetime#OWNED} actor lives as long as the process that created it.
 *
 * @param <A> the actor's class
 */
public final class ActorHandle<A> extends ActorCalls<A> implements Serializable {
  @Serial private static final long serialVersionUID = 1L;

  private final ActorId id;
  private final String className;

  /** A handle to actor {@code id} of class {@code className}; for the runtime. */
  @Internal
  public ActorHandle(ActorId id, String className) {
    this.id = Objects.requireNonNull(id, "id");
    this.className = Objects.requireNonNull(className, "className");
  }

  /** The actor's id, the same across restarts. */
  public ActorId id() {
    return id;
  }

  /** The fully qualified name of the actor's class. */
  public String className() {
    return className;
  }

  @Override
  <R> TaskCaller<R> taskCall(Serializable method, Object[] args, boolean async) {
    return new TaskCaller<>(this, method, args, async);
  }

  @Override
  <T> GeneratorCaller<T> generatorCall(
      Serializable method, Object[] args, GeneratorCaller.Kind kind) {
    return new GeneratorCaller<>(this, method, args, kind);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ActorHandle<?> h && h.id.equals(id);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "ActorHandle(" + className + ", " + id + ")";
  }
}
