package dev.sluice.runtime.core;

import dev.sluice.ActorHandle;
import dev.sluice.ActorOptions;
import dev.sluice.GeneratorCaller;
import dev.sluice.ObjectId;
import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.TaskId;
import dev.sluice.TaskOptions;
import dev.sluice.runtime.actor.Actors;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.owner.TaskManager;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.io.Serializable;
import java.lang.ref.Reference;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The core worker's actor-facing calls (DESIGN "Actors"): builds creation and call specs with
 * {@link TaskSpecFactory}, records calls (and their return refs or caller-side streams) in the
 * {@link TaskManager}, keeps an actor's creation arguments referenced for the actor's life, and
 * hands specs, lookups, kills and cancels to {@link Actors}. It owns no state of its own.
 *
 * <p>Threads: called from user and task threads (the core worker has checked it is running); it
 * does not block except where {@link Actors} does (creation, lookup by name).
 */
final class ActorSubmission {

  private final TaskSpecFactory specs;
  private final ReferenceCounter refs;
  private final TaskManager taskManager;
  private final Actors actors;
  private final Address self;
  private final Consumer<Boolean> blocked;

  ActorSubmission(
      TaskSpecFactory specs,
      ReferenceCounter refs,
      TaskManager taskManager,
      Actors actors,
      Address self,
      Consumer<Boolean> blocked) {
    this.specs = specs;
    this.refs = refs;
    this.taskManager = taskManager;
    this.actors = actors;
    this.self = self;
    this.blocked = blocked;
  }

  <A> ActorHandle<A> create(Serializable constructor, Object[] args, ActorOptions options) {
    TaskSpecFactory.NewSpec built = specs.actorCreation(constructor, args, options);
    // The arguments stay referenced for the actor's life: every restart runs the constructor
    // with them again.
    refs.addSubmitted(built.argRefs());
    ActorHandle<A> handle =
        actors.create(built.spec(), () -> refs.removeSubmitted(built.argRefs()));
    Reference.reachabilityFence(built.argObjects());
    return handle;
  }

  <R> ObjectRef<R> submitTask(
      ActorHandle<?> actor,
      Serializable method,
      Object[] args,
      TaskOptions options,
      boolean async) {
    TaskSpecFactory.NewSpec built =
        specs.actorCall(
            actor.id(), method, args, options, async, null, actors.maxTaskRetries(actor.id()));
    TaskSpec spec = built.spec();
    ObjectId returnId = ObjectId.of(TaskId.fromBytes(spec.getTaskId().toByteArray()), 1);
    ObjectRef<R> ref = refs.newRef(returnId, self);
    taskManager.add(spec, built.argRefs(), returnId);
    Reference.reachabilityFence(built.argObjects());
    actors.submit(spec);
    return ref;
  }

  <T> ObjectRefGenerator<T> submitGenerator(
      ActorHandle<?> actor,
      Serializable method,
      Object[] args,
      TaskOptions options,
      GeneratorCaller.Kind kind) {
    TaskSpecFactory.NewSpec built =
        specs.actorCall(
            actor.id(), method, args, options, false, kind, actors.maxTaskRetries(actor.id()));
    TaskSpec spec = built.spec();
    // Made before the call is sent: a call to a dead actor fails at once, and its failure is kept
    // only for refs that exist.
    ObjectRefGenerator<T> gen = taskManager.addStreamingTask(spec, self, built.argRefs(), blocked);
    Reference.reachabilityFence(built.argObjects());
    actors.submit(spec);
    return gen;
  }

  <A> Optional<ActorHandle<A>> get(String name, Class<A> type) {
    return actors.getByName(name, type);
  }

  void kill(ActorHandle<?> actor) {
    actors.kill(actor.id());
  }

  /** Cancels {@code task} if it is an actor call: its actor's worker cancels it. */
  boolean cancel(TaskId task) {
    return actors.cancel(task);
  }

  /** The workers of this process's owned actors stop with it. */
  void shutdown() {
    actors.shutdown();
  }
}
