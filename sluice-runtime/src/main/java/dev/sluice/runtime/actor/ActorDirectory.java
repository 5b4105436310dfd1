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
 * the process follows that actor. An entry only moves forward (by version). A dead actor's entry
 * stays while something here still follows it; once it is dead and nobody follows it (each follower
 * stops when it is done with the dead actor), the entry and its watch are dropped, and a later
 * look-up asks the table again.
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

    /** Ends the current watch; null when none is open. */
    @GuardedBy("this")
    Runnable cancelWatch;

    /** Removed from the map: a new follower makes a new entry. */
    @GuardedBy("this")
    boolean dropped;

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
   * later one, in version order. Returns the action that stops following (call it once done with
   * the actor, at the latest when it is dead), after which the listener hears nothing more.
   */
  public Runnable follow(ActorId id, Consumer<ActorInfo> listener) {
    while (true) {
      Entry e = entries.computeIfAbsent(id, Entry::new);
      ActorInfo now;
      boolean startWatch;
      // Joined and given the latest entry within one delivery turn: a newer entry delivered
      // between the two would otherwise reach the listener before the older one it was given.
      synchronized (e.deliveryLock) {
        synchronized (e) {
          if (e.dropped) {
            continue;
          }
          e.listeners.add(listener);
          now = e.latest;
          startWatch =
              !e.watching && (now == null || now.getState() != ActorState.ACTOR_STATE_DEAD);
          e.watching |= startWatch;
        }
        if (now != null) {
          listener.accept(now);
        }
      }
      if (startWatch) {
        watch(e);
      }
      return () -> unfollow(e, listener);
    }
  }

  private void unfollow(Entry e, Consumer<ActorInfo> listener) {
    synchronized (e) {
      e.listeners.remove(listener);
    }
    dropIfDone(e);
  }

  /** Drops the entry (and ends its watch) if the actor is dead and nobody follows it. */
  private void dropIfDone(Entry e) {
    Runnable cancel;
    synchronized (e) {
      if (e.dropped
          || !e.listeners.isEmpty()
          || e.latest == null
          || e.latest.getState() != ActorState.ACTOR_STATE_DEAD) {
        return;
      }
      e.dropped = true;
      entries.remove(e.id, e);
      cancel = e.cancelWatch;
      e.cancelWatch = null;
      e.watching = false;
    }
    log.debug("actor {} is dead and no longer followed here: its entry is dropped", e.id);
    if (cancel != null) {
      cancel.run();
    }
  }

  /** Whether this process keeps an entry for actor {@code id} (for tests). */
  boolean knows(ActorId id) {
    return entries.containsKey(id);
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
    dropIfDone(e);
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
    Runnable cancel =
        table.watch(
            e.id,
            info -> {
              deliver(e, info);
              dropIfDone(e);
            },
            error -> watchEnded(e, error));
    boolean late;
    synchronized (e) {
      late = e.dropped;
      if (!late) {
        e.cancelWatch = cancel;
      }
    }
    if (late) {
      cancel.run();
    }
  }

  private void watchEnded(Entry e, Throwable error) {
    boolean again;
    synchronized (e) {
      again =
          !e.dropped && (e.latest == null || e.latest.getState() != ActorState.ACTOR_STATE_DEAD);
      e.watching = again;
      e.cancelWatch = null;
    }
    if (error instanceof ActorTableClient.UnknownActorException) {
      deliver(e, unknown(e.id));
      dropIfDone(e);
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
