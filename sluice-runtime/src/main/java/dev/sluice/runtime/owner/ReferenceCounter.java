package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectRefInfo;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * The process's reference table (DESIGN "Reference counting", after Ray's reference counter). Every
 * object this process holds a reference to has one entry, which counts:
 *
 * <ul>
 *   <li><b>local</b> references: each {@link ObjectRefImpl} instance made by {@link #newRef},
 *       released by a cleaner once the instance is unreachable ({@link LocalRefs});
 *   <li><b>submitted</b> references: arguments (top level, nested in argument values, or captured
 *       by the function) of tasks this process submitted, held until the task's final outcome;
 *   <li><b>contained</b> references: refs nested inside the value of an object this process owns,
 *       held until that outer object is freed;
 *   <li><b>borrowers</b> (owned objects only): other processes holding the object, each counted by
 *       its worker id ({@link Borrowers}).
 * </ul>
 *
 * An entry is removed when all counts reach zero ({@link RefTable}). An owned object is then freed
 * from the memory store; a borrowed one drops its cached copy and tells its owner it no longer
 * borrows.
 *
 * <p><b>Borrowing without a gap.</b> A process that obtains a ref it does not own (by deserializing
 * an argument or a value) registers with the owner at once, asynchronously. The object is kept
 * alive meanwhile by whatever handed the ref over (a pending task's argument, an outer object that
 * contains it), so before that keeper is released the process waits for its registrations: {@link
 * #awaitRegistrations} runs before a task's reply and before {@code get} returns. Refs nested in a
 * task's return value are registered by the executor on behalf of the task's owner before the
 * reply, and the owner counts them as contained ({@link #addContained}). The messages to owners are
 * {@link BorrowRegistrations}; the per-thread scopes in which the serializer reports nested refs
 * are {@link NestedRefCollector}.
 *
 * <p>This class is the entry point other packages use: it keeps the submitted and contained counts
 * and what happens when an entry goes out of scope, and delegates the rest to the package-private
 * pieces above.
 *
 * <p>Threads: any. The lock is {@link RefTable}'s: each entry changes only inside the table's
 * per-entry compute, which every piece goes through; side effects (freeing, RPCs) run after it,
 * outside the map's locks.
 */
public final class ReferenceCounter {
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
    public static List<Nested> in(ReturnObject r) {
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

  private final MemoryStore store;
  private final BiConsumer<ObjectId, SharedMemoryLocation> deleteShared;
  private final RefTable table;
  private final LocalRefs local;
  private final Borrowers borrowers;
  private final BorrowRegistrations registrations;
  private final NestedRefCollector collector = new NestedRefCollector();

  /**
   * The table of the process at {@code self}, freeing owned objects from {@code store}, and an
   * owned object's shared-memory copy through {@code deleteShared}.
   */
  public ReferenceCounter(
      Address self,
      MemoryStore store,
      BorrowerUpdates updates,
      BiConsumer<ObjectId, SharedMemoryLocation> deleteShared) {
    this.store = store;
    this.deleteShared = deleteShared;
    this.registrations = new BorrowRegistrations(self, updates);
    this.table =
        new RefTable(
            self,
            new RefTable.Listener() {
              @Override
              public void register(ObjectId id, Address owner, CompletableFuture<Void> done) {
                registrations.register(id, owner, done);
              }

              @Override
              public void outOfScope(ObjectId id, RefTable.Entry e) {
                free(id, e);
              }
            });
    this.local = new LocalRefs(table, store, this);
    this.borrowers = new Borrowers(table);
  }

  // ------------------------------------------------------------------ local references

  /** A new counted ref to {@code id} owned by {@code owner}. */
  public <T> ObjectRefImpl<T> newRef(ObjectId id, Address owner) {
    return local.newRef(id, owner);
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
    return local.carrying(id, owner, value);
  }

  // ------------------------------------------------------------------ task arguments

  /** A task was submitted with these refs among its arguments: they stay until its outcome. */
  public void addSubmitted(List<Nested> refs) {
    for (Nested r : refs) {
      table.update(r.id(), r.owner(), true, e -> e.submitted++);
    }
  }

  /** The task submitted with {@code refs} has its final outcome. */
  public void removeSubmitted(List<Nested> refs) {
    for (Nested r : refs) {
      table.update(r.id(), null, false, e -> e.submitted--);
    }
  }

  // ------------------------------------------------------------------ nested references

  /**
   * Counts {@code inner} refs as contained in a value this process stores. With {@code
   * preRegistered}, the refs came in a task's return whose executor already registered this process
   * as a borrower of each; that borrow becomes the contained count.
   */
  public void addContained(List<Nested> inner, boolean preRegistered) {
    ByteString me = table.self().getWorkerId();
    for (Nested r : inner) {
      table.update(
          r.id(),
          r.owner(),
          true,
          e -> {
            e.contained++;
            if (preRegistered) {
              if (e.owned) {
                Borrowers.remove(e, me, 1);
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
      table.update(r.id(), null, false, e -> e.contained--);
    }
  }

  /**
   * Records that the value of owned object {@code outer} contains {@code inner} (already counted by
   * {@link #addContained}); they are released when {@code outer} is freed. If {@code outer} is no
   * longer referenced they are released at once.
   */
  public void setContains(ObjectId outer, List<Nested> inner) {
    if (!inner.isEmpty() && !table.attachContains(outer, inner)) {
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
    borrowers.update(id, borrower, borrowerNode, delta);
  }

  /**
   * Forgets every borrow held by the worker {@code borrower}, which exited: a dead borrower never
   * releases what it held. Objects left unreferenced are freed.
   */
  public void removeBorrower(ByteString borrower) {
    borrowers.removeWorker(borrower);
  }

  /**
   * Node {@code node} died: every borrow held by a worker on it is forgotten, as if each had exited
   * (its node manager, which would have said so, died with it), and so is any borrow by such a
   * worker that arrives later.
   */
  public void removeBorrowersOnNode(ByteString node) {
    borrowers.removeOnNode(node);
  }

  /**
   * Registers {@code borrower} (the owner of a task's return that nests {@code refs}) as a borrower
   * of each, at their owners; completes when all are applied. Called by the executor before it
   * sends the return, while its own refs still keep the objects alive.
   */
  public CompletableFuture<Void> registerBorrower(List<Nested> refs, Address borrower) {
    List<CompletableFuture<Void>> acks = new ArrayList<>(refs.size());
    for (Nested r : refs) {
      if (table.isSelf(r.owner())) {
        borrowers.update(r.id(), borrower.getWorkerId(), borrower.getNodeId(), 1);
      } else {
        acks.add(registrations.registerFor(r.id(), r.owner(), borrower));
      }
    }
    return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new));
  }

  /**
   * Waits (bounded) until every borrower registration this process has sent is applied: called
   * before releasing whatever kept a newly borrowed object alive.
   */
  public void awaitRegistrations(Duration timeout) {
    registrations.await(timeout);
  }

  // ------------------------------------------------------------------ nested ref collection

  /**
   * Starts collecting the refs serialized by the calling thread (see {@link #noteSerialized});
   * returns the mark to pass to {@link #endCollect}. Scopes nest: an outer scope also sees the refs
   * of the scopes inside it.
   */
  public int beginCollect() {
    return collector.begin();
  }

  /** Ends the scope begun by {@link #beginCollect}; returns the refs serialized within it. */
  public List<Nested> endCollect(int mark) {
    return collector.end(mark);
  }

  /**
   * Called for each ref that leaves this process (written by the serializer, or a task argument): a
   * ref still carrying its value is counted from now on, and noted in the collection scope.
   */
  public void noteSerialized(ObjectRefImpl<?> ref) {
    ref.checkUsableIn(this);
    if (ref.carriedValue() != null) {
      local.count(ref);
    }
    collector.note(ref.id(), ref.owner());
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
    if (!table.contains(id)) {
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
    if (value.hasShared() && !table.contains(id)) {
      deleteShared.accept(id, value.getShared());
    }
  }

  /** True while the table has an entry for {@code id}. */
  public boolean isReferenced(ObjectId id) {
    return table.contains(id);
  }

  /** Number of objects in the table that other processes own (this process borrows them). */
  public int numBorrowed() {
    return table.numBorrowed();
  }

  /** Number of objects in the table. */
  public int size() {
    return table.size();
  }

  /** Stops sending borrower updates (the process is shutting down). */
  public void close() {
    registrations.close();
  }

  /** True once {@link #close closed}: the session this table served has ended. */
  public boolean isClosed() {
    return registrations.isClosed();
  }

  // ------------------------------------------------------------------ out of scope

  /**
   * Entry {@code e} of {@code id} went out of scope (after the table's compute): the value leaves
   * the memory store, an owned object's shared-memory copy is deleted, the refs its value contains
   * are released, and a borrow is given back to the owner.
   */
  private void free(ObjectId id, RefTable.Entry e) {
    CompletableFuture<ObjectValue> value = store.remove(id);
    if (e.owned && value != null && value.isDone() && value.join().hasShared()) {
      deleteShared.accept(id, value.join().getShared());
    }
    if (e.contains != null) {
      releaseContained(e.contains);
    }
    registrations.giveBack(id, e);
  }
}
