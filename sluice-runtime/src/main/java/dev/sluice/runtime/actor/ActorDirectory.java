package dev.sluice.runtime.actor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.ActorDiedException;
import dev.sluice.ActorId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.ActorState;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's view of the actor table (DESIGN "Actors"): the latest entry of each actor it calls
 * or created, kept current by one watch per actor on the control service, and handed to whoever in
 * the process follows that actor. An entry only moves forward (by version); a dead actor's entry
 * stays.
 *
 * <p>Threads: entries are per actor; each actor's listeners are called in version order, from the
 * watch's transport thread or the caller of {@link #learn}, never under a lock.
 */
public final class ActorDirectory {
  private static final Logger log = LoggerFactory.getLogger(ActorDirectory.class);

  /** How long to wait before watching again after a watch failed. */
  private static final long REWATCH_MILLIS = 500;

  private final ActorTableClient table;
  private final ScheduledExecutorService timers;
  private final ConcurrentHashMap<ActorId, Entry> entries = new ConcurrentHashMap<>();

  private final class Entry {
    final ActorId id;

    @GuardedBy("this")
    ActorInfo latest;

    @GuardedBy("this")
    final List<Consumer<ActorInfo>> listeners = new ArrayList<>();

    @GuardedBy("this")
    boolean watching;

    /** Serializes deliveries so that listeners see versions in order. */
    final Object deliveryLock = new Object();

    Entry(ActorId id) {
      this.id = id;
    }
  }

  public ActorDirectory(ActorTableClient table, ScheduledExecutorService timers) {
    this.table = table;
    this.timers = timers;
  }

  /**
   * Follows actor {@code id}: {@code listener} gets the latest entry (at once if known) and every
   * later one, in version order.
   */
  public void follow(ActorId id, Consumer<ActorInfo> listener) {
    Entry e = entries.computeIfAbsent(id, Entry::new);
    ActorInfo now;
    boolean startWatch;
    // Joined and given the latest entry within one delivery turn: a newer entry delivered between
    // the two would otherwise reach the listener before the older one it was given.
    synchronized (e.deliveryLock) {
      synchronized (e) {
        e.listeners.add(listener);
        now = e.latest;
        startWatch = !e.watching && (now == null || now.getState() != ActorState.ACTOR_STATE_DEAD);
        e.watching |= startWatch;
      }
      if (now != null) {
        listener.accept(now);
      }
    }
    if (startWatch) {
      watch(e);
    }
  }

  /**
   * The latest entry of actor {@code id}, asking the control service if this process has none;
   * empty if the table does not know the actor.
   */
  public Optional<ActorInfo> get(ActorId id) {
    Entry e = entries.get(id);
    if (e != null) {
      synchronized (e) {
        if (e.latest != null) {
          return Optional.of(e.latest);
        }
      }
    }
    Optional<ActorInfo> fetched = table.get(id);
    fetched.ifPresent(this::learn);
    return fetched;
  }

  /** Takes an entry learnt from a reply (registration, update, kill) and passes it on. */
  public void learn(ActorInfo info) {
    ActorId id = ActorId.fromBytes(info.getActorId().toByteArray());
    Entry e = entries.computeIfAbsent(id, Entry::new);
    deliver(e, info);
  }

  private void deliver(Entry e, ActorInfo info) {
    synchronized (e.deliveryLock) {
      List<Consumer<ActorInfo>> to;
      synchronized (e) {
        if (e.latest != null && info.getVersion() <= e.latest.getVersion()) {
          return;
        }
        e.latest = info;
        to = List.copyOf(e.listeners);
      }
      for (Consumer<ActorInfo> l : to) {
        try {
          l.accept(info);
        } catch (RuntimeException ex) {
          log.error("an actor table listener failed for actor {}", e.id, ex);
        }
      }
    }
  }

  private void watch(Entry e) {
    table.watch(
        e.id,
        info -> deliver(e, info),
        error -> {
          boolean again;
          synchronized (e) {
            again = e.latest == null || e.latest.getState() != ActorState.ACTOR_STATE_DEAD;
            e.watching = again;
          }
          if (error instanceof ActorTableClient.UnknownActorException) {
            deliver(e, unknown(e.id));
            return;
          }
          if (again) {
            log.debug("watch of actor {} ended ({}); watching again", e.id, error.toString());
            try {
              timers.schedule(() -> watch(e), REWATCH_MILLIS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException shuttingDown) {
              // the process is stopping
            }
          }
        });
  }

  /** The entry of an actor the table does not know (its cluster was restarted, or never had it). */
  static ActorInfo unknown(ActorId id) {
    return ActorInfo.newBuilder()
        .setActorId(ByteString.copyFrom(id.toBytes()))
        .setState(ActorState.ACTOR_STATE_DEAD)
        .setVersion(Long.MAX_VALUE)
        .setDeathCause(
            Errors.actorDied(
                ActorDiedException.Reason.PROCESS_DIED,
                "actor "
                    + id
                    + " is not known to the cluster (it belongs to a cluster or session that has"
                    + " ended)",
                null))
        .build();
  }
}
