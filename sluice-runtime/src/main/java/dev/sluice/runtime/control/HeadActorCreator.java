package dev.sluice.runtime.control;

import com.google.protobuf.ByteString;
import dev.sluice.ActorDiedException.Reason;
import dev.sluice.ActorId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.actor.ActorCreationStream;
import dev.sluice.runtime.actor.ActorLeaser;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.TaskArg;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control service's own creator of {@code DETACHED} actors whose creator is gone (DESIGN
 * "Actors", lifetimes; Ray's GCS actor manager restarts them the same way): keeps the creation task
 * and lease request each detached actor was registered with, and when the {@link ActorTable} hands
 * it an instance to construct ({@code headStarts}), leases a worker of its own for it from an alive
 * node ({@link ActorLeaser}), pushes the creation task there ({@link ActorCreationStream}) and
 * reports the outcome to the table, as a creator's {@code ActorManager} does. The node brings the
 * job's code from the control service as for any lease of that job.
 *
 * <p>Arguments: values travel inline in the kept spec; an {@code ObjectRef} argument owned by the
 * gone creator is lost with it, so such an instance fails at once ({@code CREATION_FAILED}) with a
 * message naming the argument.
 *
 * <p>Threads: {@link #keep} and {@link #start} are called from transport threads and the table's
 * delivering thread; the work after a start runs on virtual threads. State is in concurrent maps;
 * an actor's instance record is replaced whole.
 */
final class HeadActorCreator {
  private static final Logger log = LoggerFactory.getLogger(HeadActorCreator.class);

  /** How long an instance waits for a node with the resources it needs. */
  private static final Duration UNSCHEDULABLE_TIMEOUT = Duration.ofSeconds(60);

  private static final Executor WORK =
      Executors.newThreadPerTaskExecutor(
          Thread.ofVirtual().name("sluice-head-actor-creator-", 0).factory());

  private final ActorTable table;
  private final ChannelPool channels;
  private final Supplier<List<NodeInfo>> nodes;
  private final ActorLeaser leaser;
  private final Map<ActorId, Kept> kept = new ConcurrentHashMap<>();
  private final Map<ActorId, Instance> instances = new ConcurrentHashMap<>();

  /** What a detached actor was registered with. */
  private record Kept(TaskSpec creation, LeaseRequest lease) {}

  /** The instance the head constructs or constructed, with its creation stream. */
  private record Instance(int number, ActorCreationStream stream) {}

  HeadActorCreator(
      ActorTable table,
      ChannelPool channels,
      Supplier<List<NodeInfo>> nodes,
      ScheduledExecutorService timers) {
    this.table = table;
    this.channels = channels;
    this.nodes = nodes;
    this.leaser = ActorLeaser.overGrpc(channels, null, timers, UNSCHEDULABLE_TIMEOUT);
  }

  /**
   * Keeps the creation task and lease request of registered detached actor {@code id} until the
   * actor is dead.
   */
  void keep(ActorId id, TaskSpec creation, LeaseRequest lease) {
    kept.put(id, new Kept(creation, lease));
    Optional<ActorWatch> watch =
        table.watch(
            id,
            e -> {
              if (!e.isLive()) {
                forget(id);
              }
            });
    if (watch.isEmpty()) {
      forget(id);
    }
  }

  /** Whether the creation spec of actor {@code id} is kept (for tests). */
  boolean keeps(ActorId id) {
    return kept.containsKey(id);
  }

  private void forget(ActorId id) {
    kept.remove(id);
    Instance old = instances.remove(id);
    if (old != null) {
      old.stream().close();
    }
  }

  /** Constructs the instance {@code entry} is restarting as (called by the table, off its lock). */
  void start(ActorEntry entry) {
    WORK.execute(() -> construct(entry));
  }

  private void construct(ActorEntry e) {
    int instance = e.numRestarts();
    Kept k = kept.get(e.id());
    if (k == null) {
      failed(e, null, "the control service has no creation spec for it");
      return;
    }
    Optional<String> lost = lostArgument(k.creation(), e.owner().workerId());
    if (lost.isPresent()) {
      failed(e, null, "restart " + instance + " needs " + lost.get());
      return;
    }
    Optional<String> target = nodeFor(k.lease());
    if (target.isEmpty()) {
      failed(e, null, "no node is alive to run it");
      return;
    }
    log.info(
        "restarting {} (restart {}) on behalf of its gone creator",
        ActorDeathMessages.actor(e),
        instance);
    LeaseRequest lease =
        k.lease().toBuilder()
            .setLeaseRequestId(ByteString.copyFromUtf8(UUID.randomUUID().toString()))
            .build();
    leaser
        .lease(lease, target.get())
        .whenCompleteAsync(
            (granted, err) -> {
              if (err != null) {
                Throwable why = err.getCause() != null ? err.getCause() : err;
                failed(
                    e,
                    null,
                    "it could not be placed: "
                        + why.getMessage()
                        + " (it needs "
                        + k.lease().getResourcesMap()
                        + ")");
                return;
              }
              push(e, k, granted);
            },
            WORK);
  }

  private void push(ActorEntry e, Kept k, ActorLeaser.Granted granted) {
    int instance = e.numRestarts();
    WorkerAddress at = ActorTableGrpcService.address(granted.reply().getWorker());
    ActorEntry now = table.get(e.id()).orElse(null);
    if (now == null
        || now.state() != ActorEntry.State.RESTARTING
        || now.numRestarts() != instance
        || !kept.containsKey(e.id())) {
      leaser.giveBack(granted, ActorDeathMessages.actor(e) + " no longer needs this instance");
      return;
    }
    table.placed(e.id(), instance, at.workerId());
    ActorCreationStream stream =
        new ActorCreationStream(
            channels, granted.reply(), k.creation().toBuilder().setAttemptNumber(instance).build());
    Instance old = instances.put(e.id(), new Instance(instance, stream));
    if (old != null) {
      old.stream().close();
    }
    stream
        .reply()
        .whenCompleteAsync(
            (reply, err) -> {
              if (err != null) {
                // Counted once, whether the node's report of the death comes first or not.
                table.workerDied(
                    e.id(),
                    at.workerId(),
                    at.nodeId(),
                    "its worker " + at.workerId() + " was lost while being constructed: " + err);
                return;
              }
              onCreated(e, at, granted, reply);
            },
            WORK);
  }

  private void onCreated(
      ActorEntry e, WorkerAddress at, ActorLeaser.Granted granted, PushTaskReply reply) {
    int instance = e.numRestarts();
    ErrorInfo cause = ActorCreationStream.failure(reply, ActorDeathMessages.actor(e));
    if (cause == null) {
      log.info("{} restarted on node {}", ActorDeathMessages.actor(e), at.nodeId());
      table.created(e.id(), instance, at);
      return;
    }
    table.creationFailed(
        e.id(),
        instance,
        Errors.actorDiedReason(cause),
        at.nodeId(),
        cause.getMessage(),
        cause.getSerializedException().isEmpty()
            ? null
            : cause.getSerializedException().toByteArray());
    leaser.giveBack(granted, "the constructor of " + ActorDeathMessages.actor(e) + " failed");
  }

  private void failed(ActorEntry e, NodeId node, String detail) {
    table.creationFailed(e.id(), e.numRestarts(), Reason.CREATION_FAILED, node, detail, null);
  }

  /**
   * The first argument of {@code creation} that is an {@code ObjectRef} owned by {@code creator}
   * (gone, and its objects with it), described for the death message; empty if there is none.
   */
  static Optional<String> lostArgument(TaskSpec creation, WorkerId creator) {
    ByteString gone = ByteString.copyFrom(creator.toBytes());
    for (int i = 0; i < creation.getArgsCount(); i++) {
      TaskArg arg = creation.getArgs(i);
      if (arg.hasRef() && arg.getRef().getOwner().getWorkerId().equals(gone)) {
        ObjectId object = ObjectId.fromBytes(arg.getRef().getObjectId().toByteArray());
        return Optional.of(
            "its constructor's argument "
                + (i + 1)
                + " (ObjectRef "
                + object
                + "), which was owned by its creator (worker "
                + creator
                + "); the creator died, so that object is lost and the actor cannot be"
                + " constructed again");
      }
    }
    return Optional.empty();
  }

  /**
   * The node manager to ask first: the affinity node if it is alive, else an alive node with the
   * resources free now, else any alive node (it sends the request on).
   */
  private Optional<String> nodeFor(LeaseRequest lease) {
    List<NodeInfo> alive = nodes.get().stream().filter(NodeInfo::getAlive).toList();
    if (lease.hasNodeAffinity()) {
      for (NodeInfo n : alive) {
        if (n.getNodeId().equals(lease.getNodeAffinity().getNodeId())) {
          return Optional.of(Addresses.target(n.getNodeManager()));
        }
      }
    }
    for (NodeInfo n : alive) {
      if (fits(lease.getResourcesMap(), n.getResourcesAvailableMap())) {
        return Optional.of(Addresses.target(n.getNodeManager()));
      }
    }
    return alive.stream().findFirst().map(n -> Addresses.target(n.getNodeManager()));
  }

  private static boolean fits(Map<String, Double> wanted, Map<String, Double> free) {
    for (Map.Entry<String, Double> w : wanted.entrySet()) {
      if (free.getOrDefault(w.getKey(), 0.0) < w.getValue()) {
        return false;
      }
    }
    return true;
  }
}
