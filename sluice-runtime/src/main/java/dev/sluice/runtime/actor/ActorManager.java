package dev.sluice.runtime.actor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.ActorDiedException;
import dev.sluice.ActorId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.ActorLifetime;
import dev.sluice.runtime.rpc.proto.ActorState;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.RegisterActorRequest;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.rpc.proto.UpdateActorRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The creator's side of the actors this process created (DESIGN "Actors", creation): registers each
 * in the actor table, leases it a worker of its own, pushes its creation task there, and reports
 * the outcome; runs the creation again for each restart the table decides. It holds the creation's
 * argument refs until the actor is dead, since every restart needs them again.
 *
 * <p>Threads: {@link #create} runs on the caller's thread up to registration; the rest continues on
 * transport and timer threads. Per-actor state is guarded by its {@link Created} monitor.
 */
public final class ActorManager {
  private static final Logger log = LoggerFactory.getLogger(ActorManager.class);

  /**
   * Runs the steps that follow a lease or creation reply: they make blocking calls to the actor
   * table, and the replies arrive on gRPC's event loop threads, which must never block (the table's
   * own reply would need the same thread).
   */
  private static final Executor BLOCKING =
      Executors.newThreadPerTaskExecutor(
          Thread.ofVirtual().name("sluice-actor-manager-", 0).factory());

  private final ActorTableClient table;
  private final ActorDirectory directory;
  private final ChannelPool channels;
  private final ActorLeaser leaser;
  private final ConcurrentHashMap<ActorId, Created> created = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** An actor this process created. */
  private static final class Created {
    final ActorId id;
    final TaskSpec creation;
    final LeaseRequest lease;
    final Runnable releaseArgs;

    @GuardedBy("this")
    int instance = -1;

    @GuardedBy("this")
    ActorCreationStream stream;

    @GuardedBy("this")
    ActorLeaser.Granted granted;

    @GuardedBy("this")
    boolean dead;

    /** Stops following the actor in the directory; null until following. */
    @GuardedBy("this")
    Runnable unfollow;

    Created(ActorId id, TaskSpec creation, LeaseRequest lease, Runnable releaseArgs) {
      this.id = id;
      this.creation = creation;
      this.lease = lease;
      this.releaseArgs = releaseArgs;
    }

    String describe() {
      String name = creation.getActorCreation().getName();
      return creation.getActorCreation().getClassName()
          + " "
          + id
          + (name.isEmpty() ? "" : " '" + name + "'");
    }
  }

  public ActorManager(
      ActorTableClient table,
      ActorDirectory directory,
      ChannelPool channels,
      String localNodeManager,
      ScheduledExecutorService timers,
      Duration unschedulableTimeout) {
    this.table = table;
    this.directory = directory;
    this.channels = channels;
    this.leaser = ActorLeaser.overGrpc(channels, localNodeManager, timers, unschedulableTimeout);
  }

  /**
   * Registers actor {@code entry} and starts creating it with {@code creation} on a worker leased
   * by {@code lease}; returns once registered.
   *
   * @throws IllegalArgumentException if a live actor already has the entry's name
   */
  public void create(TaskSpec creation, ActorInfo entry, LeaseRequest lease, Runnable releaseArgs) {
    ActorId id = ActorId.fromBytes(entry.getActorId().toByteArray());
    RegisterActorRequest.Builder request = RegisterActorRequest.newBuilder().setActor(entry);
    if (entry.getLifetime() == ActorLifetime.ACTOR_LIFETIME_DETACHED) {
      // The control service keeps these, to construct the actor itself once this process is gone.
      request.setCreation(creation).setLease(lease);
    }
    Optional<ActorInfo> holder = table.register(request.build());
    if (holder.isPresent()) {
      releaseArgs.run();
      ActorInfo h = holder.get();
      throw new IllegalArgumentException(
          "an actor named '"
              + entry.getName()
              + "' is already alive: actor "
              + ActorId.fromBytes(h.getActorId().toByteArray())
              + " of class "
              + h.getClassName()
              + " (state "
              + h.getState()
              + "); names are unique among live actors");
    }
    Created c = new Created(id, creation, lease, releaseArgs);
    created.put(id, c);
    Runnable unfollow = directory.follow(id, info -> onInfo(c, info));
    boolean done;
    synchronized (c) {
      done = c.dead;
      c.unfollow = done ? null : unfollow;
    }
    if (done) {
      unfollow.run();
    }
    startInstance(c, 0);
  }

  /** Closes every creation stream: the workers of this process's {@code OWNED} actors stop. */
  public void shutdown() {
    closed = true;
    for (Created c : created.values()) {
      ActorCreationStream s;
      synchronized (c) {
        s = c.stream;
      }
      if (s != null) {
        s.close();
      }
    }
  }

  private void onInfo(Created c, ActorInfo info) {
    boolean restart = false;
    List<Runnable> after = new ArrayList<>();
    synchronized (c) {
      if (c.dead) {
        return;
      }
      if (info.getState() == ActorState.ACTOR_STATE_DEAD) {
        c.dead = true;
        ActorCreationStream s = c.stream;
        if (s != null) {
          after.add(s::close);
        }
        after.add(c.releaseArgs);
        after.add(() -> created.remove(c.id, c));
        if (c.unfollow != null) {
          after.add(c.unfollow);
          c.unfollow = null;
        }
      } else if (info.getState() == ActorState.ACTOR_STATE_RESTARTING
          && info.getNumRestarts() > c.instance) {
        restart = true;
      }
    }
    after.forEach(Runnable::run);
    if (restart && !closed) {
      log.info("restarting actor {} (restart {})", c.describe(), info.getNumRestarts());
      startInstance(c, info.getNumRestarts());
    }
  }

  private void startInstance(Created c, int instance) {
    synchronized (c) {
      if (c.dead || instance <= c.instance) {
        return;
      }
      c.instance = instance;
      ActorCreationStream old = c.stream;
      c.stream = null;
      c.granted = null;
      if (old != null) {
        old.close();
      }
    }
    leaser
        .lease(c.lease)
        .whenCompleteAsync(
            (granted, err) -> {
              if (err != null) {
                Throwable why = err.getCause() != null ? err.getCause() : err;
                report(
                    c,
                    instance,
                    dead(
                        ActorDiedException.Reason.CREATION_FAILED,
                        "actor "
                            + c.describe()
                            + " could not be placed: "
                            + why.getMessage()
                            + " (it needs "
                            + c.lease.getResourcesMap()
                            + ")"));
                return;
              }
              push(c, instance, granted);
            },
            BLOCKING);
  }

  private void push(Created c, int instance, ActorLeaser.Granted granted) {
    TaskSpec spec = c.creation.toBuilder().setAttemptNumber(instance).build();
    ActorCreationStream stream;
    synchronized (c) {
      if (c.dead || c.instance != instance || closed) {
        leaser.giveBack(granted, "actor " + c.describe() + " no longer needs this instance");
        return;
      }
      stream = new ActorCreationStream(channels, granted.reply(), spec);
      c.stream = stream;
      c.granted = granted;
    }
    stream
        .reply()
        .whenCompleteAsync(
            (reply, err) -> {
              if (err != null) {
                // The worker died before answering: the node reports its death to the table,
                // which decides whether the actor restarts.
                log.debug("creation of actor {} lost its worker: {}", c.describe(), err.toString());
                return;
              }
              onCreated(c, instance, granted, reply);
            },
            BLOCKING);
  }

  private void onCreated(
      Created c, int instance, ActorLeaser.Granted granted, PushTaskReply reply) {
    ErrorInfo cause = ActorCreationStream.failure(reply, c.describe());
    if (cause == null) {
      log.debug(
          "actor {} is alive on node {}",
          c.describe(),
          Addresses.nodeId(granted.reply().getWorker()));
      report(
          c,
          instance,
          UpdateActorRequest.newBuilder()
              .setActorId(ByteString.copyFrom(c.id.toBytes()))
              .setState(ActorState.ACTOR_STATE_ALIVE)
              .setAddress(granted.reply().getWorker())
              .setNumRestarts(instance)
              .build());
      return;
    }
    report(c, instance, dead(cause));
    leaser.giveBack(granted, "the constructor of actor " + c.describe() + " failed");
  }

  private static UpdateActorRequest dead(ActorDiedException.Reason reason, String message) {
    return dead(Errors.actorDied(reason, message, null));
  }

  private static UpdateActorRequest dead(ErrorInfo cause) {
    return UpdateActorRequest.newBuilder()
        .setState(ActorState.ACTOR_STATE_DEAD)
        .setDeathCause(cause)
        .build();
  }

  private void report(Created c, int instance, UpdateActorRequest update) {
    UpdateActorRequest full =
        update.toBuilder()
            .setActorId(ByteString.copyFrom(c.id.toBytes()))
            .setNumRestarts(instance)
            .build();
    try {
      directory.learn(table.update(full));
    } catch (RuntimeException e) {
      log.error("could not report the state of actor {} to the control service", c.describe(), e);
    }
  }
}
