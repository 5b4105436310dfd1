package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.runtime.owner.ReferenceCounter.Nested;
import dev.sluice.runtime.rpc.proto.Address;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The entries of {@link ReferenceCounter}: one per object the process holds a reference to, with
 * its counts, and the rule that removes it. It owns the rule "an entry goes out of scope when its
 * local, submitted, contained and borrower counts are all zero", creates entries for borrowed
 * objects with one registration at their owner (unless the owner already counts this process), and
 * counts the borrowed entries. What going out of scope means (freeing the value, giving back a
 * borrow) and how a registration is sent belong to its {@link Listener}.
 *
 * <p>Threads: any. This is ReferenceCounter's lock: an entry changes only inside {@link
 * ConcurrentHashMap#compute} for its id, where the {@code change} passed to {@link #update} runs.
 * The listener runs after the compute, outside the map's locks, so it may update other entries or
 * send RPCs.
 */
final class RefTable {
  /** What the table asks of the rest of the counter; called after the entry's compute. */
  interface Listener {
    /**
     * A new entry for borrowed object {@code id} needs registering with its {@code owner}; {@code
     * registered} must complete once the owner applied it (or cannot).
     */
    void register(ObjectId id, Address owner, CompletableFuture<Void> registered);

    /** Entry {@code e} of {@code id} left the table: every count reached zero. */
    void outOfScope(ObjectId id, Entry e);
  }

  /** The completed {@link Entry#registered} every entry starts with; never completed again. */
  private static final CompletableFuture<Void> REGISTERED = CompletableFuture.completedFuture(null);

  /** One object's counts. Mutated only inside the table's compute for its id. */
  static final class Entry {
    final Address owner;
    final boolean owned;
    int local;
    int submitted;
    int contained;

    /** Owned objects: borrows held by other processes, by worker id (read racily to select). */
    Map<ByteString, Integer> borrowers;

    /** Owned objects: refs nested in the value, released when this entry goes out of scope. */
    List<Nested> contains;

    /** Borrowed objects: borrows registered (or in flight) at the owner for this process. */
    int ownerHolds;

    /**
     * Borrowed objects: completes when every registration sent for this entry is applied. Starts as
     * one shared completed future (an owned entry never registers: one object less per entry).
     */
    CompletableFuture<Void> registered = REGISTERED;

    Entry(Address owner, boolean owned) {
      this.owner = owner;
      this.owned = owned;
    }

    boolean unreferenced() {
      return local == 0
          && submitted == 0
          && contained == 0
          && (borrowers == null || borrowers.isEmpty());
    }
  }

  private final Address self;
  private final Listener listener;
  private final ConcurrentHashMap<ObjectId, Entry> entries = new ConcurrentHashMap<>();

  /** Entries for objects owned elsewhere: while any exist, their owners wait on this process. */
  private final AtomicInteger borrowed = new AtomicInteger();

  /** The table of the process at {@code self}. */
  RefTable(Address self, Listener listener) {
    this.self = self;
    this.listener = listener;
  }

  /** True if this process is {@code owner}. */
  boolean isSelf(Address owner) {
    return owner.getWorkerId().equals(self.getWorkerId());
  }

  /** The process this table belongs to. */
  Address self() {
    return self;
  }

  /** {@link #update(ObjectId, Address, boolean, Consumer, boolean)}, registering new borrows. */
  void update(ObjectId id, Address owner, boolean create, Consumer<Entry> change) {
    update(id, owner, create, change, false);
  }

  /**
   * Applies {@code change} to the entry of {@code id} (creating it, owned by {@code owner}, if
   * {@code create}; an absent entry is left absent otherwise), removes it when it becomes
   * unreferenced, and has a new borrowed entry registered with its owner unless {@code
   * preRegistered}.
   */
  void update(
      ObjectId id, Address owner, boolean create, Consumer<Entry> change, boolean preRegistered) {
    Entry[] freed = new Entry[1];
    CompletableFuture<Void>[] register = newFutureSlot();
    entries.compute(
        id,
        (k, e) -> {
          if (e == null) {
            if (!create) {
              return null;
            }
            e = new Entry(owner, isSelf(owner));
            if (!e.owned) {
              borrowed.incrementAndGet();
            }
            if (!e.owned && !preRegistered) {
              e.ownerHolds = 1;
              e.registered = new CompletableFuture<>();
              register[0] = e.registered;
            }
          }
          change.accept(e);
          if (e.unreferenced()) {
            freed[0] = e;
            return null;
          }
          return e;
        });
    if (register[0] != null) {
      listener.register(id, owner, register[0]);
    }
    if (freed[0] != null) {
      if (!freed[0].owned) {
        borrowed.decrementAndGet();
      }
      listener.outOfScope(id, freed[0]);
    }
  }

  /**
   * Records that the value of {@code outer} contains {@code inner}; false (nothing recorded) if
   * {@code outer} has no entry.
   */
  boolean attachContains(ObjectId outer, List<Nested> inner) {
    boolean[] attached = new boolean[1];
    entries.computeIfPresent(
        outer,
        (k, e) -> {
          if (e.contains == null) {
            e.contains = new ArrayList<>(inner);
          } else {
            e.contains.addAll(inner);
          }
          attached[0] = true;
          return e;
        });
    return attached[0];
  }

  /**
   * The ids whose entry matches {@code test} now. A racy read: it only selects candidates, which
   * the caller then changes through {@link #update}.
   */
  List<ObjectId> select(Predicate<Entry> test) {
    List<ObjectId> ids = new ArrayList<>();
    entries.forEach(
        (id, e) -> {
          if (test.test(e)) {
            ids.add(id);
          }
        });
    return ids;
  }

  /** True while {@code id} has an entry. */
  boolean contains(ObjectId id) {
    return entries.containsKey(id);
  }

  /** Number of entries. */
  int size() {
    return entries.size();
  }

  /** Number of entries for objects other processes own. */
  int numBorrowed() {
    return borrowed.get();
  }

  @SuppressWarnings("unchecked")
  private static CompletableFuture<Void>[] newFutureSlot() {
    return new CompletableFuture[1];
  }
}
