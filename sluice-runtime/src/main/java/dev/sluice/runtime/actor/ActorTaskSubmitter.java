package dev.sluice.runtime.actor;

import com.google.protobuf.ByteString;
import dev.sluice.ActorId;
import dev.sluice.TaskId;
import dev.sluice.runtime.owner.DependencyResolver;
import dev.sluice.runtime.owner.TaskManager;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sends this process's actor calls (DESIGN "Actors", caller side), one {@link ActorClient} per
 * actor it calls, each following that actor's entry in the {@link ActorDirectory}. The task manager
 * records each call before it gets here, exactly as for a task, so refs, streams, cancellation and
 * retries work the same; its retries of actor calls come back through {@link #resubmit}.
 *
 * <p>Threads: any thread may submit; per-actor state lives in the clients.
 */
public final class ActorTaskSubmitter {
  private final ActorDirectory directory;
  private final ActorClient.Connector connector;
  private final TaskManager taskManager;
  private final DependencyResolver dependencies;
  private final ByteString callerId;
  private final ConcurrentHashMap<ActorId, ActorClient> clients = new ConcurrentHashMap<>();

  public ActorTaskSubmitter(
      ActorDirectory directory,
      ActorClient.Connector connector,
      TaskManager taskManager,
      DependencyResolver dependencies,
      ByteString callerId) {
    this.directory = directory;
    this.connector = connector;
    this.taskManager = taskManager;
    this.dependencies = dependencies;
    this.callerId = callerId;
  }

  /** Sends a new call (recorded in the task manager already); the spec names its actor. */
  public void submit(TaskSpec spec) {
    client(actorOf(spec)).submit(spec);
  }

  /** Sends a retry of a call, in its original place among the caller's calls to its actor. */
  public void resubmit(TaskSpec spec) {
    client(actorOf(spec)).resubmit(spec);
  }

  /**
   * Cancels call {@code id} of actor {@code actor}: not sent yet, it fails with {@code cancelled}
   * at once; sent, its instance cancels it. Returns false if the call already finished.
   */
  public boolean cancel(ActorId actor, TaskId id, ErrorInfo cancelled) {
    ActorClient c = clients.get(actor);
    return c != null && c.cancel(id, cancelled);
  }

  /** The actor of call {@code id} if it is one of this process's calls without an outcome. */
  Optional<ActorId> actorOfCall(TaskId id) {
    for (var e : clients.entrySet()) {
      if (e.getValue().has(id)) {
        return Optional.of(e.getKey());
      }
    }
    return Optional.empty();
  }

  private ActorClient client(ActorId id) {
    ActorClient existing = clients.get(id);
    if (existing != null) {
      return existing;
    }
    ActorClient created =
        new ActorClient(id, callerId, connector, outcomes(), dependencies::resolve);
    ActorClient raced = clients.putIfAbsent(id, created);
    if (raced != null) {
      return raced;
    }
    Runnable unfollow = directory.follow(id, created::onInfo);
    created.onDead(() -> retire(id, created, unfollow));
    return created;
  }

  /**
   * The actor is dead and its client has failed every call: the client goes (a later call makes a
   * new one, which learns the death from the table) and stops following the actor, so that the
   * directory drops its entry.
   */
  private void retire(ActorId id, ActorClient client, Runnable unfollow) {
    clients.remove(id, client);
    unfollow.run();
  }

  private ActorClient.Outcomes outcomes() {
    return new ActorClient.Outcomes() {
      @Override
      public void complete(TaskId id, PushTaskReply reply) {
        taskManager.complete(id, reply);
      }

      @Override
      public void fail(TaskId id, ErrorInfo error, boolean retriable) {
        taskManager.fail(id, error, retriable);
      }

      @Override
      public boolean isPending(TaskId id) {
        return taskManager.isPending(id);
      }
    };
  }

  static ActorId actorOf(TaskSpec spec) {
    return ActorId.fromBytes(spec.getActorCall().getActorId().toByteArray());
  }
}
