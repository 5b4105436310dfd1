package dev.sluice;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The contract between the {@link Sluice} facade and the runtime implementation. Users never call
 * it; the runtime module provides it through {@link SluiceRuntimeFactory}.
 */
@Internal
public interface SluiceRuntime {
  /** Submits a task; {@code args} may contain {@link ObjectRef}s. */
  <R> ObjectRef<R> submitTask(Serializable function, Object[] args, TaskOptions options);

  /** Submits a streaming generator task; its stream exists before this returns. */
  <T> ObjectRefGenerator<T> submitGenerator(
      Serializable function, Object[] args, TaskOptions options, GeneratorCaller.Kind kind);

  /**
   * Creates an actor: registers it (checking its name) before returning, then places it and runs
   * {@code constructor} asynchronously.
   */
  <A> ActorHandle<A> createActor(Serializable constructor, Object[] args, ActorOptions options);

  /** Submits a call of an actor method; {@code async} if it returns a {@code CompletionStage}. */
  <R> ObjectRef<R> submitActorTask(
      ActorHandle<?> actor, Serializable method, Object[] args, TaskOptions options, boolean async);

  /** Submits a call of an actor's generator method; its stream exists before this returns. */
  <T> ObjectRefGenerator<T> submitActorGenerator(
      ActorHandle<?> actor,
      Serializable method,
      Object[] args,
      TaskOptions options,
      GeneratorCaller.Kind kind);

  /** The live actor named {@code name}, if there is one. */
  <A> Optional<ActorHandle<A>> getActor(String name, Class<A> type);

  /** Kills an actor for good (no restart); later calls fail with {@link ActorDiedException}. */
  void kill(ActorHandle<?> actor);

  /** Stores a value owned by this process. */
  <T> ObjectRef<T> put(T value);

  /** Waits for and returns a value; {@code timeout} null means forever. */
  <T> T get(ObjectRef<T> ref, Duration timeout);

  /** Waits for and returns several values. */
  <T> List<T> get(List<ObjectRef<T>> refs, Duration timeout);

  /** Waits until {@code numReturns} refs are ready or the timeout passes. */
  <T> WaitResult<T> wait(List<ObjectRef<T>> refs, int numReturns, Duration timeout);

  /** Waits until {@code numReturns} of {@code items} (refs or generators) are ready. */
  <A extends Awaitable> AwaitResult<A> waitAny(List<A> items, int numReturns, Duration timeout);

  /** Cancels the task that produces {@code ref}; see {@link Sluice#cancel(ObjectRef, boolean)}. */
  void cancel(ObjectRef<?> ref, boolean force);

  /** Cancels the task that produces {@code ref} without force. */
  default void cancel(ObjectRef<?> ref) {
    cancel(ref, false);
  }

  /** The calling code's context. */
  RuntimeContext runtimeContext();

  /** Stops everything this runtime started. Idempotent. */
  void shutdown();

  /** See {@link Sluice#objectStoreStats()}. */
  ObjectStoreStats objectStoreStats();

  /** See {@link Sluice#state()}. */
  ClusterState state();

  /** See {@link Sluice#getBuffer(ObjectRef, Duration)}; {@code timeout} null waits forever. */
  ObjectBuffer getBuffer(ObjectRef<byte[]> ref, java.time.Duration timeout);
}
