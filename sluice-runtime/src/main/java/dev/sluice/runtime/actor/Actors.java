package dev.sluice.runtime.actor;

import com.google.protobuf.ByteString;
import dev.sluice.ActorHandle;
import dev.sluice.ActorId;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.owner.DependencyResolver;
import dev.sluice.runtime.owner.TaskManager;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.ActorState;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A process's actors (DESIGN "Actors"): the entry the core worker calls for creating actors ({@link
 * ActorManager}), calling them ({@link ActorTaskSubmitter}), finding them by name and killing them,
 * over one view of the actor table ({@link ActorDirectory}).
 *
 * <p>Threads: any thread; each part documents its own.
 */
public final class Actors {
  private final ActorTableClient table;
  private final ActorDirectory directory;
  private final ActorTaskSubmitter submitter;
  private final ActorManager manager;
  private final TaskManager taskManager;
  private final Address self;

  public Actors(
      ActorTableClient table,
      ChannelPool channels,
      TaskManager taskManager,
      DependencyResolver dependencies,
      Address self,
      String localNodeManager,
      ScheduledExecutorService timers,
      Duration unschedulableTimeout) {
    this.table = table;
    this.taskManager = taskManager;
    this.self = self;
    this.directory = new ActorDirectory(table, timers);
    this.submitter =
        new ActorTaskSubmitter(
            directory,
            ActorCallStream.connector(channels, taskManager),
            taskManager,
            dependencies,
            self.getWorkerId());
    this.manager =
        new ActorManager(
            table, directory, channels, localNodeManager, timers, unschedulableTimeout);
  }

  /**
   * Creates the actor whose creation task is {@code creation}; {@code releaseArgs} gives up its
   * arguments' refs once the actor is dead.
   *
   * @throws IllegalArgumentException if its name is taken by a live actor
   */
  public <A> ActorHandle<A> create(TaskSpec creation, Runnable releaseArgs) {
    var c = creation.getActorCreation();
    ActorInfo entry =
        ActorInfo.newBuilder()
            .setActorId(c.getActorId())
            .setName(c.getName())
            .setClassName(c.getClassName())
            .setState(ActorState.ACTOR_STATE_PENDING)
            .setOwner(self)
            .setLifetime(c.getLifetime())
            .setMaxRestarts(c.getMaxRestarts())
            .setMaxTaskRetries(c.getMaxTaskRetries())
            .setMaxConcurrency(c.getMaxConcurrency())
            .build();
    LeaseRequest.Builder lease =
        LeaseRequest.newBuilder()
            .setLeaseRequestId(ByteString.copyFromUtf8(UUID.randomUUID().toString()))
            .putAllResources(creation.getResourcesMap())
            .setSchedulingKey("actor:" + c.getClassName())
            .setOwner(self)
            .setDisplayName("actor " + c.getClassName())
            .setJobId(creation.getJobId())
            .setActorId(c.getActorId())
            .setActorLifetime(c.getLifetime());
    if (creation.hasNodeAffinity()) {
      lease.setNodeAffinity(creation.getNodeAffinity());
    }
    manager.create(creation, entry, lease.build(), releaseArgs);
    return new ActorHandle<>(ActorId.fromBytes(c.getActorId().toByteArray()), c.getClassName());
  }

  /** How often a call in flight when the actor's process died is sent again (-1 unlimited). */
  public int maxTaskRetries(ActorId id) {
    return directory.get(id).map(ActorInfo::getMaxTaskRetries).orElse(0);
  }

  /** Sends a call recorded in the task manager. */
  public void submit(TaskSpec call) {
    submitter.submit(call);
  }

  /** Sends again a call the task manager retries. */
  public void resubmit(TaskSpec call) {
    submitter.resubmit(call);
  }

  /**
   * Cancels actor call {@code id} of this process; false if it is not an actor call in flight here.
   * A call not yet sent never runs; a sent one is cancelled by the actor's worker (a running call
   * is interrupted).
   */
  public boolean cancel(TaskId id) {
    Optional<ActorId> actor = submitter.actorOfCall(id);
    if (actor.isEmpty() || !taskManager.markCancelled(id)) {
      return false;
    }
    return submitter.cancel(
        actor.get(),
        id,
        Errors.error(ErrorType.TASK_CANCELLED, "actor call " + id + " was cancelled"));
  }

  /**
   * The live actor named {@code name}, as a handle of {@code type}.
   *
   * @throws ClassCastException if the actor's class is not {@code type} or a subclass of it
   */
  public <A> Optional<ActorHandle<A>> getByName(String name, Class<A> type) {
    Optional<ActorInfo> found = table.getByName(name);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    ActorInfo info = found.get();
    directory.learn(info);
    checkType(info, type);
    return Optional.of(
        new ActorHandle<>(ActorId.fromBytes(info.getActorId().toByteArray()), info.getClassName()));
  }

  /** Kills actor {@code id} for good; this process's later calls to it fail at once. */
  public void kill(ActorId id) {
    directory.learn(table.kill(id));
  }

  /** Stops this process's part: the workers of its {@code OWNED} actors stop with it. */
  public void shutdown() {
    manager.shutdown();
  }

  private static void checkType(ActorInfo info, Class<?> type) {
    if (type.getName().equals(info.getClassName())) {
      return;
    }
    // The actor's class is found by the caller's context loader; a type such as Object or an
    // interface of the JDK has the bootstrap loader (null), which cannot see user classes.
    Class<?> actual = load(info.getClassName(), Thread.currentThread().getContextClassLoader());
    if (actual == null && type.getClassLoader() != null) {
      actual = load(info.getClassName(), type.getClassLoader());
    }
    if (actual == null || !type.isAssignableFrom(actual)) {
      throw new ClassCastException(
          "actor '"
              + info.getName()
              + "' ("
              + ActorId.fromBytes(info.getActorId().toByteArray())
              + ") is a "
              + info.getClassName()
              + ", not a "
              + type.getName());
    }
  }

  private static Class<?> load(String name, ClassLoader loader) {
    if (loader == null) {
      return null;
    }
    try {
      return Class.forName(name, false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      return null;
    }
  }
}
