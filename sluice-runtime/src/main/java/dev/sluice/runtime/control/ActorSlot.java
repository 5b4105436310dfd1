package dev.sluice.runtime.control;

import dev.sluice.ActorDiedException.Reason;
import dev.sluice.ActorLifetime;
import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.control.ActorEntry.State;
import java.util.LinkedHashSet;
import java.util.SequencedSet;
import java.util.function.Function;

/**
 * One actor in the {@link ActorTable}: its entry, what the table remembers beside it, its watchers,
 * and the actor lifecycle rule's decisions for it. Each report method returns the entry the report
 * leads to, or null when the report changes nothing (stale, or the actor already dead); the table
 * applies the change (names, dead entries kept, watchers).
 *
 * <p>Who constructs an instance: its creator while the creator lives; once the creator is gone, the
 * control service itself ({@link HeadActorCreator}) for a {@code DETACHED} actor whose creation
 * spec it keeps ({@link #headRestarts}). While the head creates an instance, only a death of the
 * worker it placed that instance on ({@link #placed}) counts: another worker's death can only be
 * left over from the gone creator's attempt.
 *
 * <p>Threads: not thread-safe. Every method is called by the table holding its lock (Error Prone
 * cannot name the table's lock from here, so this is said rather than checked).
 */
final class ActorSlot {
  /** Workers whose death counted, remembered per actor to ignore repeated reports. */
  private static final int DEAD_WORKERS_KEPT = 64;

  ActorEntry entry;

  /** The control service keeps its creation spec, so it can construct the actor itself. */
  private final boolean headRestarts;

  /** Its creator (process or job) is gone, so the creator constructs it no more. */
  private boolean creatorGone;

  /** The worker the head placed the instance it creates on; null before it placed one. */
  private WorkerId headWorker;

  /** The latest instance handed to the head to create; -1 for none. */
  private int headStarted = -1;

  private final SequencedSet<WorkerId> deadWorkers = new LinkedHashSet<>();

  final ActorWatchers watchers;

  ActorSlot(ActorEntry entry, boolean headRestarts, Object tableLock) {
    this.entry = entry;
    this.headRestarts = headRestarts && entry.lifetime() == ActorLifetime.DETACHED;
    this.watchers = new ActorWatchers(tableLock);
  }

  private boolean creating() {
    return entry.state() == State.PENDING || entry.state() == State.RESTARTING;
  }

  /** Whether the head constructs its instances now (its creator is gone). */
  private boolean headCreates() {
    return creatorGone && headRestarts;
  }

  /** Instance {@code instance} was constructed at {@code address}: {@code ALIVE} there. */
  ActorEntry created(int instance, WorkerAddress address) {
    if (creating()
        && entry.numRestarts() == instance
        && !deadWorkers.contains(address.workerId())) {
      return entry.alive(address);
    }
    return null;
  }

  /** Instance {@code instance} could not be created: {@code DEAD} with {@code reason}. */
  ActorEntry creationFailed(
      int instance, Reason reason, NodeId node, String detail, byte[] serializedCause) {
    if (creating() && entry.numRestarts() == instance) {
      String message = ActorDeathMessages.creationFailed(entry, reason, node, detail);
      return entry.dead(new ActorDeath(reason, message, serializedCause));
    }
    return null;
  }

  /** The head placed instance {@code instance} on {@code worker}: only its death counts now. */
  void placed(int instance, WorkerId worker) {
    if (creating() && headCreates() && entry.numRestarts() == instance) {
      headWorker = worker;
    }
  }

  /**
   * A worker death, counted only for the current instance (see {@link ActorTable#workerDied}): the
   * actor restarts while restarts are left and someone can construct it (its creator, or the head),
   * and is {@code DEAD} ({@code PROCESS_DIED}) otherwise.
   */
  ActorEntry workerDied(WorkerId worker, NodeId node, String detail) {
    ActorEntry e = entry;
    if (!e.isLive() || deadWorkers.contains(worker)) {
      return null;
    }
    if (e.state() == State.ALIVE && !e.address().workerId().equals(worker)) {
      return null;
    }
    if (e.state() != State.ALIVE && headCreates() && !worker.equals(headWorker)) {
      return null;
    }
    deadWorkers.add(worker);
    while (deadWorkers.size() > DEAD_WORKERS_KEPT) {
      deadWorkers.removeFirst();
    }
    NodeId where = e.state() == State.ALIVE ? e.address().nodeId() : node;
    if (!e.hasRestartsLeft()) {
      return e.dead(ActorDeathMessages.noRestartsLeft(e, where, detail));
    }
    if (creatorGone && !headRestarts) {
      return e.dead(ActorDeathMessages.creatorGone(e, where, detail));
    }
    headWorker = null;
    return e.restarting();
  }

  /** Killed: {@code DEAD} ({@code KILLED}) from any live state. */
  ActorEntry kill() {
    return entry.isLive() ? entry.dead(ActorDeathMessages.killed(entry)) : null;
  }

  /**
   * Its creator (process, job or node) is gone: an {@code OWNED} actor dies ({@code ownedDeath}); a
   * {@code DETACHED} one lives on, and dies only if nobody can construct the instance it was
   * waiting for: before its first instance, or while restarting without a spec at the head (with
   * one, the head takes the restart over).
   */
  ActorEntry creatorWent(Function<ActorEntry, ActorDeath> ownedDeath) {
    ActorEntry e = entry;
    if (!e.isLive()) {
      return null;
    }
    boolean wasGone = creatorGone;
    creatorGone = true;
    if (e.lifetime() == ActorLifetime.OWNED) {
      return e.dead(ownedDeath.apply(e));
    }
    if (e.state() == State.PENDING) {
      return e.dead(ActorDeathMessages.creatorGoneBeforeCreation(e));
    }
    if (e.state() == State.RESTARTING && !headRestarts) {
      return e.dead(ActorDeathMessages.restartingWhenCreatorWent(e));
    }
    if (e.state() == State.RESTARTING && !wasGone) {
      // The head takes over this restart; the creator's own attempt, if any, no longer counts.
      headWorker = null;
    }
    return null;
  }

  /**
   * Whether the head must now construct the current instance: the actor is restarting, the head
   * constructs it, and this instance was not handed to the head before. True once per instance.
   */
  boolean takeHeadStart() {
    if (entry.state() != State.RESTARTING || !headCreates() || entry.numRestarts() <= headStarted) {
      return false;
    }
    headStarted = entry.numRestarts();
    return true;
  }
}
