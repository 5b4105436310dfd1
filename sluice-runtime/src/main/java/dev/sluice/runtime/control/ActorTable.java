package dev.sluice.runtime.control;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.sluice.ActorDiedException.Reason;
import dev.sluice.ActorId;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.control.ActorEntry.State;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedSet;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The actor table (DESIGN "Actors"): the one place that decides each actor's state, the <em>actor
 * lifecycle rule</em>. Every report about an actor (its registration, its creation's outcome, its
 * worker's death, its creator's or job's end, a kill) comes here, and the table alone says whether
 * the actor is {@code PENDING}, {@code ALIVE}, {@code RESTARTING} or {@code DEAD}, and why it died:
 *
 * <ul>
 *   <li>a name is unique among live (not {@code DEAD}) actors; a dead actor's name is free again;
 *   <li>a creation's outcome counts only for the current instance ({@link ActorEntry#numRestarts});
 *   <li>a worker death of the current instance (the worker of its address while {@code ALIVE}, the
 *       one being created while {@code PENDING} or {@code RESTARTING}; a worker whose death already
 *       counted is stale) restarts the actor while restarts are left and its creator lives, and
 *       kills it ({@code PROCESS_DIED}) otherwise;
 *   <li>an {@code OWNED} actor dies ({@code OWNER_DIED}) with its creator's process or job; a
 *       {@code DETACHED} one lives on, and once its creator is gone the control service constructs
 *       its later instances itself when it keeps the actor's creation spec ({@link
 *       HeadActorCreator}, told through {@code headStarts}); without one it can no longer restart;
 *   <li>{@code DEAD} is final; {@link #kill} makes any live state {@code DEAD} ({@code KILLED}).
 * </ul>
 *
 * The decisions for one actor are its {@link ActorSlot}'s; the table keeps the slots, the names and
 * the gone creators, and publishes changes. Every change replaces the entry with one a version
 * higher. Watchers ({@link #watch}) get the entry as it is, then every later one exactly once in
 * version order, the last being {@code DEAD}. Dead entries are kept (the latest {@code deadKept})
 * so that late callers learn why.
 *
 * <p>Threads: thread-safe. All state is guarded by one lock, held only for map and entry updates;
 * watchers are never called under it. A change queues its entry for the actor's watchers under the
 * lock; after releasing it the changing thread delivers the actor's queue unless another thread is
 * already delivering it (that thread then delivers this change too), so each actor's deliveries run
 * one at a time, in version order. Listeners should be quick (an RPC stream's {@code onNext}); they
 * may call back into the table. {@code headStarts} is called the same way, after the watchers.
 */
public final class ActorTable {
  private static final Logger log = LoggerFactory.getLogger(ActorTable.class);

  /** How many dead entries a table keeps by default. */
  public static final int DEFAULT_DEAD_KEPT = 1000;

  /** Gone creators (processes, jobs, nodes) remembered for registrations that race their end. */
  private static final int GONE_CREATORS_KEPT = 10_000;

  /** The outcome of {@link #register}. */
  public sealed interface RegisterResult permits Registered, NameTaken {}

  /**
   * The actor is in the table: newly registered, or already (the same id again: nothing changed).
   *
   * @param entry its entry now (a creator that is already gone makes it {@code DEAD} at once)
   */
  public record Registered(ActorEntry entry) implements RegisterResult {}

  /**
   * Refused: another live actor holds the name.
   *
   * @param holder that actor's entry
   */
  public record NameTaken(ActorEntry holder) implements RegisterResult {}

  /**
   * The outcome of a report about one actor.
   *
   * @param entry the entry after the report
   * @param changed false when the report was ignored (stale, or the actor already dead)
   */
  public record Update(ActorEntry entry, boolean changed) {}

  private final Object lock = new Object();
  private final int deadKept;

  /** Told (off the lock) of each instance the control service must construct itself. */
  private final Consumer<ActorEntry> headStarts;

  @GuardedBy("lock")
  private final Map<ActorId, ActorSlot> actors = new LinkedHashMap<>();

  /** Live actors by name. */
  @GuardedBy("lock")
  private final Map<String, ActorId> names = new HashMap<>();

  /** Dead actors, oldest death first. */
  @GuardedBy("lock")
  private final ArrayDeque<ActorId> deadOrder = new ArrayDeque<>();

  @GuardedBy("lock")
  private final SequencedSet<WorkerId> goneOwners = new LinkedHashSet<>();

  @GuardedBy("lock")
  private final SequencedSet<JobId> finishedJobs = new LinkedHashSet<>();

  @GuardedBy("lock")
  private final SequencedSet<NodeId> deadNodes = new LinkedHashSet<>();

  /** A table keeping the latest {@link #DEFAULT_DEAD_KEPT} dead entries. */
  public ActorTable() {
    this(DEFAULT_DEAD_KEPT);
  }

  /** A table keeping the latest {@code deadKept} dead entries. */
  public ActorTable(int deadKept) {
    this(deadKept, e -> {});
  }

  /**
   * A table keeping the latest {@code deadKept} dead entries, telling {@code headStarts} of each
   * instance the control service must construct itself (the entry is {@code RESTARTING} as that
   * instance; see {@link ActorSlot}).
   */
  public ActorTable(int deadKept, Consumer<ActorEntry> headStarts) {
    if (deadKept < 0) {
      throw new IllegalArgumentException("deadKept must be >= 0: " + deadKept);
    }
    this.deadKept = deadKept;
    this.headStarts = headStarts;
  }

  /**
   * Registers a new actor ({@code RegisterActor}): {@code PENDING}, version 1, with the creator's
   * settings from {@code requested} (its state, instance and version are ignored). Refused when a
   * live actor holds its name; the same id again returns the entry as it is.
   */
  public RegisterResult register(ActorEntry requested) {
    return register(requested, false);
  }

  /**
   * Registers a new actor as {@link #register(ActorEntry)}; {@code headRestarts}: the control
   * service keeps its creation spec, so a {@code DETACHED} actor restarts after its creator is
   * gone.
   */
  public RegisterResult register(ActorEntry requested, boolean headRestarts) {
    ActorEntry wanted = requested.asRegistered();
    Changes changes = new Changes();
    RegisterResult result;
    synchronized (lock) {
      ActorSlot known = actors.get(wanted.id());
      if (known != null) {
        return new Registered(known.entry);
      }
      if (wanted.hasName()) {
        ActorId holder = names.get(wanted.name());
        if (holder != null) {
          return new NameTaken(actors.get(holder).entry);
        }
        names.put(wanted.name(), wanted.id());
      }
      ActorSlot slot = new ActorSlot(wanted, headRestarts, lock);
      actors.put(wanted.id(), slot);
      log.debug("registered {}", ActorDeathMessages.actor(wanted));
      WorkerAddress owner = wanted.owner();
      if (goneOwners.contains(owner.workerId()) || deadNodes.contains(owner.nodeId())) {
        creatorWent(slot, ActorDeathMessages::ownerDied, changes);
      } else if (finishedJobs.contains(wanted.id().jobId())) {
        creatorWent(slot, e -> ActorDeathMessages.jobFinished(e, e.id().jobId()), changes);
      }
      result = new Registered(slot.entry);
    }
    changes.deliver();
    return result;
  }

  /**
   * The creator reports that instance {@code instance} was constructed at {@code address}: the
   * actor becomes {@code ALIVE} there. Ignored unless that instance is the one being created.
   */
  public Optional<Update> created(ActorId id, int instance, WorkerAddress address) {
    return report(id, slot -> slot.created(instance, address));
  }

  /**
   * The creator reports that instance {@code instance} could not be created: the actor becomes
   * {@code DEAD} with {@code reason} ({@code CONSTRUCTOR_FAILED} or {@code CREATION_FAILED}), a
   * message naming it, {@code node} (null if it was never placed) and {@code detail}, and the
   * serialized cause (null or empty for none). Ignored unless that instance is being created.
   */
  public Optional<Update> creationFailed(
      ActorId id, int instance, Reason reason, NodeId node, String detail, byte[] serializedCause) {
    if (reason != Reason.CONSTRUCTOR_FAILED && reason != Reason.CREATION_FAILED) {
      throw new IllegalArgumentException("not a creation failure: " + reason);
    }
    return report(id, slot -> slot.creationFailed(instance, reason, node, detail, serializedCause));
  }

  /**
   * The control service placed instance {@code instance} of actor {@code id}, which it constructs
   * itself, on {@code worker}: from now on only that worker's death counts for the instance.
   * Ignored unless the head constructs that instance.
   */
  public void placed(ActorId id, int instance, WorkerId worker) {
    synchronized (lock) {
      ActorSlot slot = actors.get(id);
      if (slot != null) {
        slot.placed(instance, worker);
      }
    }
  }

  /**
   * A node manager reports that {@code worker}, leased for the actor, died ({@code detail}: exit
   * status, signal, who killed it; {@code node}: the reporting node, or null). Counts only for the
   * current instance: while {@code ALIVE} the worker must be the one at its address; while {@code
   * PENDING} or {@code RESTARTING} it is the instance being created (when the head creates it, the
   * worker it placed it on). A worker whose death already counted is stale. The actor restarts
   * ({@code RESTARTING}, one more restart) when restarts are left and its creator lives or the head
   * can construct it, and is {@code DEAD} ({@code PROCESS_DIED}) otherwise.
   */
  public Optional<Update> workerDied(ActorId id, WorkerId worker, NodeId node, String detail) {
    return report(id, slot -> slot.workerDied(worker, node, detail));
  }

  /**
   * Kills the actor ({@code KillActor}): {@code DEAD} ({@code KILLED}) from any live state, even
   * with restarts left. The entry returned keeps the address of the instance that was alive, which
   * the caller tells to exit. A dead actor is returned unchanged.
   */
  public Optional<Update> kill(ActorId id) {
    return report(id, ActorSlot::kill);
  }

  /**
   * The worker of actor {@code id} lost its creator's stream (the creator ended or died): that
   * actor alone goes as if its creator died ({@code OWNED}: {@code DEAD} with {@code OWNER_DIED}).
   * Other actors of the same creator are left to their own reports, since a stream can also end
   * because the creator closed it on purpose. Empty if the actor is unknown.
   */
  public Optional<ActorEntry> creatorLost(ActorId id) {
    Changes changes = new Changes();
    Optional<ActorEntry> result;
    synchronized (lock) {
      ActorSlot slot = actors.get(id);
      if (slot == null) {
        return Optional.empty();
      }
      creatorWent(slot, ActorDeathMessages::ownerDied, changes);
      result = Optional.of(slot.entry);
    }
    changes.deliver();
    return result;
  }

  /**
   * The creator process {@code owner} died: its {@code OWNED} actors become {@code DEAD} ({@code
   * OWNER_DIED}); its {@code DETACHED} ones live on (see the class comment). Returns the entries
   * that changed (the caller tells the live workers among them to exit).
   */
  public List<ActorEntry> ownerDied(WorkerId owner) {
    Changes changes = new Changes();
    List<ActorEntry> result;
    synchronized (lock) {
      remember(goneOwners, owner);
      for (ActorSlot slot : liveSlots()) {
        if (slot.entry.owner().workerId().equals(owner)) {
          creatorWent(slot, ActorDeathMessages::ownerDied, changes);
        }
      }
      result = changes.entries();
    }
    changes.deliver();
    return result;
  }

  /**
   * Job {@code job} finished (its driver ended): the actors it created go as with {@link
   * #ownerDied}. Returns the entries that changed.
   */
  public List<ActorEntry> jobFinished(JobId job) {
    Changes changes = new Changes();
    List<ActorEntry> result;
    synchronized (lock) {
      remember(finishedJobs, job);
      for (ActorSlot slot : liveSlots()) {
        if (slot.entry.id().jobId().equals(job)) {
          creatorWent(slot, e -> ActorDeathMessages.jobFinished(e, job), changes);
        }
      }
      result = changes.entries();
    }
    changes.deliver();
    return result;
  }

  /**
   * Node {@code node} died ({@code detail} says how): every process on it is gone, so the actors
   * created there go as with {@link #ownerDied}, then the actors alive there count a worker death
   * as with {@link #workerDied}. Returns the entries that changed.
   */
  public List<ActorEntry> nodeDied(NodeId node, String detail) {
    Changes changes = new Changes();
    List<ActorEntry> result;
    synchronized (lock) {
      remember(deadNodes, node);
      for (ActorSlot slot : liveSlots()) {
        if (slot.entry.owner().nodeId().equals(node)) {
          remember(goneOwners, slot.entry.owner().workerId());
          creatorWent(slot, ActorDeathMessages::ownerDied, changes);
        }
      }
      for (ActorSlot slot : liveSlots()) {
        ActorEntry e = slot.entry;
        if (e.state() == State.ALIVE && e.address().nodeId().equals(node)) {
          apply(slot, slot.workerDied(e.address().workerId(), node, detail), changes);
        }
      }
      result = changes.entries();
    }
    changes.deliver();
    return result;
  }

  /** The actor's entry, live or dead (dead ones while kept). */
  public Optional<ActorEntry> get(ActorId id) {
    synchronized (lock) {
      ActorSlot slot = actors.get(id);
      return slot == null ? Optional.empty() : Optional.of(slot.entry);
    }
  }

  /** The live actor holding {@code name}. */
  public Optional<ActorEntry> getByName(String name) {
    synchronized (lock) {
      ActorId id = names.get(name);
      return id == null ? Optional.empty() : Optional.of(actors.get(id).entry);
    }
  }

  /** Every entry (live, and the dead ones kept), in registration order. */
  public List<ActorEntry> list() {
    synchronized (lock) {
      List<ActorEntry> all = new ArrayList<>(actors.size());
      for (ActorSlot slot : actors.values()) {
        all.add(slot.entry);
      }
      return all;
    }
  }

  /**
   * Watches the actor ({@code WatchActor}): {@code listener} gets its entry now, then every later
   * entry exactly once in version order, the last one {@code DEAD}, after which the watch ends by
   * itself. Empty when the table does not know the actor. A listener that throws is cancelled.
   */
  public Optional<ActorWatch> watch(ActorId id, Consumer<ActorEntry> listener) {
    ActorSlot slot;
    ActorWatch watch;
    synchronized (lock) {
      slot = actors.get(id);
      if (slot == null) {
        return Optional.empty();
      }
      watch = slot.watchers.add(slot.entry, listener);
    }
    slot.watchers.deliver();
    return Optional.of(watch);
  }

  /**
   * The slots a change touched and the instances the head must construct, handed on after the lock
   * is released. Confined to the thread making the change.
   */
  private final class Changes {
    final List<ActorSlot> changed = new ArrayList<>();
    final List<ActorSlot> touched = new ArrayList<>();
    final List<ActorEntry> starts = new ArrayList<>();

    /** The changed entries; called under the lock. */
    List<ActorEntry> entries() {
      List<ActorEntry> entries = new ArrayList<>(changed.size());
      for (ActorSlot slot : changed) {
        entries.add(slot.entry);
      }
      return entries;
    }

    /** Delivers each touched actor's queue, then the head's starts. */
    void deliver() {
      for (ActorSlot slot : touched) {
        slot.watchers.deliver();
      }
      for (ActorEntry e : starts) {
        try {
          headStarts.accept(e);
        } catch (RuntimeException ex) {
          log.error("could not start a new instance of {}", ActorDeathMessages.actor(e), ex);
        }
      }
    }
  }

  /** Applies one report to the actor's slot; empty if the actor is unknown. */
  private Optional<Update> report(ActorId id, Function<ActorSlot, ActorEntry> decide) {
    Changes changes = new Changes();
    Update update;
    synchronized (lock) {
      ActorSlot slot = actors.get(id);
      if (slot == null) {
        return Optional.empty();
      }
      boolean changed = apply(slot, decide.apply(slot), changes);
      update = new Update(slot.entry, changed);
    }
    changes.deliver();
    return Optional.of(update);
  }

  @GuardedBy("lock")
  private List<ActorSlot> liveSlots() {
    List<ActorSlot> live = new ArrayList<>();
    for (ActorSlot slot : actors.values()) {
      if (slot.entry.isLive()) {
        live.add(slot);
      }
    }
    return live;
  }

  /** The actor's creator (process, job or node) is gone. */
  @GuardedBy("lock")
  private void creatorWent(
      ActorSlot slot, Function<ActorEntry, ActorDeath> ownedDeath, Changes changes) {
    apply(slot, slot.creatorWent(ownedDeath), changes);
  }

  /**
   * Makes {@code next} (null: no change) the actor's entry, queues it for its watchers, and notes
   * whether the head must construct its new instance. Returns whether the entry changed.
   */
  @GuardedBy("lock")
  private boolean apply(ActorSlot slot, ActorEntry next, Changes changes) {
    changes.touched.add(slot);
    if (next != null) {
      change(slot, next);
      changes.changed.add(slot);
    }
    if (slot.takeHeadStart()) {
      changes.starts.add(slot.entry);
    }
    return next != null;
  }

  /** Replaces the actor's entry and queues it for its watchers. */
  @GuardedBy("lock")
  private void change(ActorSlot slot, ActorEntry next) {
    slot.entry = next;
    slot.watchers.publish(next);
    if (next.isLive()) {
      log.debug(
          "{} is {} (version {}, restarts {})",
          ActorDeathMessages.actor(next),
          next.state(),
          next.version(),
          next.numRestarts());
      return;
    }
    log.info("{}", next.death().message());
    if (next.hasName()) {
      names.remove(next.name(), next.id());
    }
    deadOrder.add(next.id());
    while (deadOrder.size() > deadKept) {
      actors.remove(deadOrder.poll());
    }
  }

  private static <T> void remember(SequencedSet<T> set, T item) {
    set.add(item);
    while (set.size() > GONE_CREATORS_KEPT) {
      set.removeFirst();
    }
  }
}
