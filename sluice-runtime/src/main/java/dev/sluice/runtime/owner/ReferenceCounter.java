package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectRefInfo;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's reference table (DESIGN "Reference counting", after Ray's reference counter). Every
 * object this process holds a reference to has one entry, which counts:
 *
 * <ul>
 *   <li><b>local</b> references: each {@link ObjectRefImpl} instance made by {@link #newRef},
 *       released by a {@link Cleaner} once the instance is unreachable;
 *   <li><b>submitted</b> references: arguments (top level, nested in argument values, or captured
 *       by the function) of tasks this process submitted, held until the task's final outcome;
 *   <li><b>contained</b> references: refs nested inside the value of an object this process owns,
 *       held until that outer object is freed;
 *   <li><b>borrowers</b> (owned objects only): other processes holding the object, each counted by
 *       its worker id.
 * </ul>
 *
 * An entry is removed when all counts reach zero. An owned object is then freed from the memory
 * store; a borrowed one drops its cached copy and tells its owner it no longer borrows.
 *
 * <p><b>Borrowing without a gap.</b> A process that obtains a ref it does not own (by deserializing
 * an argument or a value) registers with the owner at once, asynchronously. The object is kept
 * alive meanwhile by whatever handed the ref over (a pending task's argument, an outer object that
 * contains it), so before that keeper is released the process waits for its registrations: {@link
 * #awaitRegistrations} runs before a task's reply and before {@code get} returns. Refs nested in a
 * task's return value are registered by the executor on behalf of the task's owner before the
 * reply, and the owner counts them as contained ({@link #addContained}).
 *
 * <p>Threads: any. Each entry changes only inside {@link ConcurrentHashMap#compute}; side effects
 * (freeing, RPCs) run after it, outside the map's locks.
 */
public final class ReferenceCounter {
  private static final Logger log = LoggerFactory.getLogger(ReferenceCounter.class);

  /** Sends borrower updates to an object's owner. */
  public interface BorrowerUpdates {
    /**
     * Adds {@code delta} borrows of {@code id} held by the process at {@code borrower} at the owner
     * {@code owner}; completes when the owner has applied it (exceptionally if it is gone).
     */
    CompletableFuture<Void> send(Address owner, ObjectId id, Address borrower, int delta);
  }

  /** A nested ref: the object and its owner. */
  public record Nested(ObjectId id, Address owner) {
    /** From the wire form. */
    public static Nested of(ObjectRefInfo info) {
      return new Nested(ObjectId.fromBytes(info.getObjectId().toByteArray()), info.getOwner());
    }

    /** The refs nested in a returned value, as its executor listed them. */
    public static List<Nested> in(dev.sluice.runtime.rpc.proto.ReturnObject r) {
      return r.getNestedRefsCount() == 0
          ? List.of()
          : r.getNestedRefsList().stream().map(Nested::of).toList();
    }

    /** The wire form. */
    public ObjectRefInfo toInfo() {
      return ObjectRefInfo.newBuilder()
          .setObjectId(ByteString.copyFrom(id.toBytes()))
          .setOwner(owner)
          .build();
    }
  }

  /** One object's counts. Mutated only inside {@code table.compute}. */
  private static final class Entry {
    final Address owner;
    final boolean owned;
    int local;
    int submitted;
    int contained;
    Map<ByteString, Integer> borrowers;
    List<Nested> contains;

    /** Borrowed objects: borrows registered (or in flight) at the owner for this process. */
    int ownerHolds;

    /** Borrowed objects: completes when every registration sent for this entry is applied. */
    CompletableFuture<Void> registered = CompletableFuture.completedFuture(null);

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
  private final MemoryStore store;
  private final BorrowerUpdates updates;
  private final java.util.function.BiConsumer<ObjectId, SharedMemoryLocation> deleteShared;
  private final Cleaner cleaner;

  /**
   * The node of each worker that borrowed from this process, for {@link #removeBorrowersOnNode}.
   */
  private final Map<ByteString, ByteString> borrowerNodes = new ConcurrentHashMap<>();

  /** Nodes reported dead: borrows by their workers that arrive late are ignored. */
  private final java.util.Set<ByteString> deadNodes = ConcurrentHashMap.newKeySet();

  private final ConcurrentHashMap<ObjectId, Entry> table = new ConcurrentHashMap<>();
  private final Set<CompletableFuture<Void>> registrations = ConcurrentHashMap.newKeySet();

  /** Entries for objects owned elsewhere: while any exist, their owners wait on this process. */
  private final java.util.concurrent.atomic.AtomicInteger borrowed =
      new java.util.concurrent.atomic.AtomicInteger();

  private final ThreadLocal<CollectScope> collecting = ThreadLocal.withInitial(CollectScope::new);
  private volatile boolean closed;

  /**
   * The table of the process at {@code self}, freeing owned objects from {@code store}, and an
   * owned object's shared-memory copy through {@code deleteShared}.
   */
  public ReferenceCounter(
      Address self,
      MemoryStore store,
      BorrowerUpdates updates,
      java.util.function.BiConsumer<ObjectId, SharedMemoryLocation> deleteShared) {
    this.self = self;
    this.store = store;
    this.updates = updates;
    this.deleteShared = deleteShared;
    this.cleaner =
        Cleaner.create(Thread.ofPlatform().daemon().name("sluice-ref-cleaner").factory());
  }

  // ------------------------------------------------------------------ local references

  /** A new counted ref to {@code id} owned by {@code owner}. */
  public <T> ObjectRefImpl<T> newRef(ObjectId id, Address owner) {
    ObjectRefImpl<T> ref = new ObjectRefImpl<>(id, owner, null, this);
    update(id, owner, true, e -> e.local++);
    Cleaner.Cleanable c = cleaner.register(ref, new ReleaseLocal(this, id));
    synchronized (ref) {
      ref.counted = true;
      ref.cleanable = c;
    }
    return ref;
  }

  /** A new counted ref from its wire form. */
  public ObjectRefImpl<?> newRef(ObjectRefInfo info) {
    return newRef(ObjectId.fromBytes(info.getObjectId().toByteArray()), info.getOwner());
  }

  /**
   * A ref to a consumed streamed item, carrying the item's value. While it never leaves this
   * process nothing but this instance can reach the value, so the garbage collector frees both
   * together and the table is not involved; the first time it is serialized it is counted like any
   * other ref and its value moves into the memory store ({@link #noteSerialized}). This keeps the
   * per-item cost of a stream to an allocation. Items with nested refs are adopted normally.
   */
  public <T> ObjectRefImpl<T> adoptItem(
      ObjectId id, Address owner, ObjectValue value, List<Nested> contains) {
    if (!contains.isEmpty() || value.hasShared()) {
      // a shared-memory copy must be deleted when the last ref goes: count it
      return adopt(id, owner, value, contains);
    }
    return new ObjectRefImpl<>(id, owner, value, this);
  }

  private void count(ObjectRefImpl<?> ref) {
    synchronized (ref) {
      ref.checkNotReleased();
      if (ref.counted) {
        return;
      }
      ref.counted = true;
      update(ref.id(), ref.owner(), true, e -> e.local++);
      store.put(ref.id(), ref.carriedValue());
      ref.cleanable = cleaner.register(ref, new ReleaseLocal(this, ref.id()));
    }
  }

  /** The Cleaner action of one ref; must not capture the ref itself. */
  private record ReleaseLocal(ReferenceCounter counter, ObjectId id) implements Runnable {
    @Override
    public void run() {
      counter.update(id, null, false, e -> e.local--);
    }
  }

  // ------------------------------------------------------------------ task arguments

  /** A task was submitted with these refs among its arguments: they stay until its outcome. */
  public void addSubmitted(List<Nested> refs) {
    for (Nested r : refs) {
      update(r.id(), r.owner(), true, e -> e.submitted++);
    }
  }

  /** The task submitted with {@code refs} has its final outcome. */
  public void removeSubmitted(List<Nested> refs) {
    for (Nested r : refs) {
      update(r.id(), null, false, e -> e.submitted--);
    }
  }

  // ------------------------------------------------------------------ nested references

  /**
   * Counts {@code inner} refs as contained in a value this process stores. With {@code
   * preRegistered}, the refs came in a task's return whose executor already registered this process
   * as a borrower of each; that borrow becomes the contained count.
   */
  public void addContained(List<Nested> inner, boolean preRegistered) {
    ByteString me = self.getWorkerId();
    for (Nested r : inner) {
      update(
          r.id(),
          r.owner(),
          true,
          e -> {
            e.contained++;
            if (preRegistered) {
              if (e.owned) {
                removeBorrower(e, me, 1);
              } else {
                e.ownerHolds++;
              }
            }
          },
          preRegistered);
    }
  }

  /**
   * Gives up borrows an executor registered for this process on refs nested in a return that is
   * dropped unread (a duplicate or stale report, a task no longer pending).
   */
  public void dropPreRegistered(List<Nested> inner) {
    addContained(inner, true);
    releaseContained(inner);
  }

  /** Releases contained counts taken by {@link #addContained} for a value that was dropped. */
  public void releaseContained(List<Nested> inner) {
    for (Nested r : inner) {
      update(r.id(), null, false, e -> e.contained--);
    }
  }

  /**
   * Records that the value of owned object {@code outer} contains {@code inner} (already counted by
   * {@link #addContained}); they are released when {@code outer} is freed. If {@code outer} is no
   * longer referenced they are released at once.
   */
  public void setContains(ObjectId outer, List<Nested> inner) {
    if (inner.isEmpty()) {
      return;
    }
    boolean[] attached = new boolean[1];
    table.computeIfPresent(
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
    if (!attached[0]) {
      releaseContained(inner);
    }
  }

  // ------------------------------------------------------------------ borrowers

  /**
   * Applies a borrower update received by this process as the owner of {@code id}: the worker
   * {@code borrower}, on node {@code borrowerNode} (empty if unknown), holds {@code delta} more (or
   * fewer) borrows.
   */
  public void updateBorrowers(
      ObjectId id, ByteString borrower, ByteString borrowerNode, int delta) {
    if (delta > 0 && !borrowerNode.isEmpty()) {
      if (deadNodes.contains(borrowerNode)) {
        // Sent (by an executor, for its task's owner) before that owner's node died.
        log.debug(
            "ignoring a borrow of {} by worker {} on a dead node",
            id,
            dev.sluice.WorkerId.fromBytes(borrower.toByteArray()));
        return;
      }
      borrowerNodes.put(borrower, borrowerNode);
    }
    boolean[] found = new boolean[1];
    update(
        id,
        null,
        false,
        e -> {
          found[0] = true;
          if (delta > 0) {
            if (e.borrowers == null) {
              e.borrowers = new ConcurrentHashMap<>(4);
            }
            e.borrowers.merge(borrower, delta, Integer::sum);
          } else {
            removeBorrower(e, borrower, -delta);
          }
        });
    if (!found[0] && delta > 0) {
      log.warn(
          "worker {} registered as a borrower of {}, which is already freed",
          dev.sluice.WorkerId.fromBytes(borrower.toByteArray()),
          id);
    }
  }

  /**
   * Forgets every borrow held by the worker {@code borrower}, which exited: a dead borrower never
   * releases what it held. Objects left unreferenced are freed.
   */
  public void removeBorrower(ByteString borrower) {
    borrowerNodes.remove(borrower);
    List<ObjectId> held = new ArrayList<>();
    table.forEach(
        (id, e) -> {
          // A racy read of the map only selects candidates; each is changed under compute.
          Map<ByteString, Integer> b = e.borrowers;
          if (b != null && b.containsKey(borrower)) {
            held.add(id);
          }
        });
    for (ObjectId id : held) {
      update(
          id,
          null,
          false,
          e -> {
            if (e.borrowers != null) {
              e.borrowers.remove(borrower);
            }
          });
    }
    if (!held.isEmpty()) {
      log.info(
          "released {} object(s) borrowed by exited worker {}",
          held.size(),
          dev.sluice.WorkerId.fromBytes(borrower.toByteArray()));
    }
  }

  /**
   * Node {@code node} died: every borrow held by a worker on it is forgotten, as if each had exited
   * (its node manager, which would have said so, died with it), and so is any borrow by such a
   * worker that arrives later.
   */
  public void removeBorrowersOnNode(ByteString node) {
    deadNodes.add(node);
    List<ByteString> gone = new ArrayList<>();
    borrowerNodes.forEach(
        (worker, n) -> {
          if (n.equals(node)) {
            gone.add(worker);
          }
        });
    gone.forEach(this::removeBorrower);
  }

  private static void removeBorrower(Entry e, ByteString borrower, int n) {
    if (e.borrowers == null) {
      return;
    }
    e.borrowers.computeIfPresent(borrower, (k, v) -> v - n <= 0 ? null : v - n);
  }

  /**
   * Registers {@code borrower} (the owner of a task's return that nests {@code refs}) as a borrower
   * of each, at their owners; completes when all are applied. Called by the executor before it
   * sends the return, while its own refs still keep the objects alive.
   */
  public CompletableFuture<Void> registerBorrower(List<Nested> refs, Address borrower) {
    List<CompletableFuture<Void>> acks = new ArrayList<>(refs.size());
    for (Nested r : refs) {
      if (isSelf(r.owner())) {
        updateBorrowers(r.id(), borrower.getWorkerId(), borrower.getNodeId(), 1);
      } else {
        acks.add(updates.send(r.owner(), r.id(), borrower, 1).exceptionally(t -> null));
      }
    }
    return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new));
  }

  /**
   * Waits (bounded) until every borrower registration this process has sent is applied: called
   * before releasing whatever kept a newly borrowed object alive.
   */
  public void awaitRegistrations(Duration timeout) {
    if (registrations.isEmpty()) {
      return;
    }
    CompletableFuture<?>[] pending = registrations.toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(pending).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("borrower registrations did not all complete: {}", e.toString());
    }
  }

  // ------------------------------------------------------------------ nested ref collection

  /** One thread's collection scopes: refs noted while {@code depth > 0}, innermost last. */
  private static final class CollectScope {
    int depth;
    ArrayList<Nested> refs;
  }

  /**
   * Starts collecting the refs serialized by the calling thread (see {@link #noteSerialized});
   * returns the mark to pass to {@link #endCollect}. Scopes nest: an outer scope also sees the refs
   * of the scopes inside it.
   */
  public int beginCollect() {
    CollectScope s = collecting.get();
    s.depth++;
    return s.refs == null ? 0 : s.refs.size();
  }

  /** Ends the scope begun by {@link #beginCollect}; returns the refs serialized within it. */
  public List<Nested> endCollect(int mark) {
    CollectScope s = collecting.get();
    List<Nested> mine =
        s.refs == null || s.refs.size() == mark
            ? List.of()
            : List.copyOf(s.refs.subList(mark, s.refs.size()));
    if (--s.depth == 0) {
      s.refs = null;
    }
    return mine;
  }

  /**
   * Called for each ref that leaves this process (written by the serializer, or a task argument): a
   * ref still carrying its value is counted from now on, and noted in the collection scope.
   */
  public void noteSerialized(ObjectRefImpl<?> ref) {
    ref.checkUsableIn(this);
    if (ref.carriedValue() != null) {
      count(ref);
    }
    CollectScope s = collecting.get();
    if (s.depth > 0) {
      if (s.refs == null) {
        s.refs = new ArrayList<>(4);
      }
      s.refs.add(new Nested(ref.id(), ref.owner()));
    }
  }

  // ------------------------------------------------------------------ values

  /**
   * Makes {@code value} an owned object of the memory store with a first counted ref, which is
   * returned; {@code contains} (already counted by {@link #addContained}) are released when the
   * object is freed. Used for streamed items as the consumer takes them.
   */
  public <T> ObjectRefImpl<T> adopt(
      ObjectId id, Address owner, ObjectValue value, List<Nested> contains) {
    ObjectRefImpl<T> ref = newRef(id, owner);
    store.put(id, value);
    setContains(id, contains);
    return ref;
  }

  /**
   * Stores a value, unless nothing references its object any more (every ref was dropped while the
   * task ran): then it is dropped at once.
   */
  public void storeIfReferenced(ObjectId id, ObjectValue value) {
    store.put(id, value);
    if (!table.containsKey(id)) {
      store.remove(id);
      discard(id, value);
    }
  }

  /**
   * A copy of object {@code id}'s value that will not be stored (a duplicate or stale return, a
   * value nobody references any more): its shared-memory copy is deleted unless the object is
   * referenced. Callers holding the object elsewhere (a stream's unconsumed item) must not call
   * this for it.
   */
  public void discard(ObjectId id, ObjectValue value) {
    if (value.hasShared() && !table.containsKey(id)) {
      deleteShared.accept(id, value.getShared());
    }
  }

  /** True while the table has an entry for {@code id}. */
  public boolean isReferenced(ObjectId id) {
    return table.containsKey(id);
  }

  /** Number of objects in the table that other processes own (this process borrows them). */
  public int numBorrowed() {
    return borrowed.get();
  }

  /** Number of objects in the table. */
  public int size() {
    return table.size();
  }

  /** Stops sending borrower updates (the process is shutting down). */
  public void close() {
    closed = true;
  }

  /** True once {@link #close closed}: the session this table served has ended. */
  public boolean isClosed() {
    return closed;
  }

  // ------------------------------------------------------------------ the table

  private boolean isSelf(Address owner) {
    return owner.getWorkerId().equals(self.getWorkerId());
  }

  private void update(ObjectId id, Address owner, boolean create, Consumer<Entry> change) {
    update(id, owner, create, change, false);
  }

  /**
   * Applies {@code change} to the entry of {@code id} (creating it if {@code create}), frees the
   * object when it becomes unreferenced, and registers a new borrowed entry with its owner (unless
   * {@code preRegistered}).
   */
  private void update(
      ObjectId id, Address owner, boolean create, Consumer<Entry> change, boolean preRegistered) {
    Entry[] freed = new Entry[1];
    CompletableFuture<Void>[] register = newFutureSlot();
    table.compute(
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
      sendRegistration(id, owner, register[0]);
    }
    if (freed[0] != null) {
      free(id, freed[0]);
    }
  }

  @SuppressWarnings("unchecked")
  private static CompletableFuture<Void>[] newFutureSlot() {
    return new CompletableFuture[1];
  }

  private void sendRegistration(ObjectId id, Address owner, CompletableFuture<Void> done) {
    registrations.add(done);
    done.whenComplete((v, t) -> registrations.remove(done));
    if (closed) {
      done.complete(null);
      return;
    }
    updates
        .send(owner, id, self, 1)
        .whenComplete(
            (v, t) -> {
              if (t != null) {
                log.debug(
                    "could not register as a borrower of {} at its owner: {}", id, t.toString());
              }
              done.complete(null);
            });
  }

  private void free(ObjectId id, Entry e) {
    if (!e.owned) {
      borrowed.decrementAndGet();
    }
    CompletableFuture<ObjectValue> value = store.remove(id);
    if (e.owned && value != null && value.isDone() && value.join().hasShared()) {
      deleteShared.accept(id, value.join().getShared());
    }
    if (e.contains != null) {
      releaseContained(e.contains);
    }
    if (!e.owned && e.ownerHolds > 0 && !closed) {
      int holds = e.ownerHolds;
      e.registered.whenComplete(
          (v, t) -> {
            if (!closed) {
              updates
                  .send(e.owner, id, self, -holds)
                  .whenComplete(
                      (v2, t2) -> {
                        if (t2 != null) {
                          log.debug("could not release borrow of {}: {}", id, t2.toString());
                        }
                      });
            }
          });
    }
  }
}
