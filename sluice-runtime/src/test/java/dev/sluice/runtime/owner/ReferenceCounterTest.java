package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.owner.ReferenceCounter.Nested;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The reference table on its own, one test per counting rule: local refs released by the garbage
 * collector, submitted task arguments, contained (nested) refs, borrowers of owned objects,
 * borrowing with its register/unregister messages to the owner, pre-registered refs from task
 * returns, carried stream items, shared-memory copies of owned objects, and the per-thread
 * collection of serialized refs.
 */
@Timeout(60)
class ReferenceCounterTest {
  private static final Duration GC_WAIT = Duration.ofSeconds(30);
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(3)), 1);
  private static final ObjectValue VALUE =
      ObjectValue.newBuilder().setData(ByteString.copyFromUtf8("value")).build();

  /** A value above the inline threshold: its bytes live in a node's shared-memory store. */
  private static final ObjectValue SHARED =
      ObjectValue.newBuilder()
          .setShared(
              SharedMemoryLocation.newBuilder()
                  .setNodeId(ByteString.copyFrom(NodeId.random().toBytes()))
                  .setSize(1 << 20))
          .build();

  private static final NodeId NODE = NodeId.random();

  /** This process. */
  private static final Address SELF = Addresses.of(WorkerId.random(), NODE, "127.0.0.1", 1001);

  /** Another process: the owner of the borrowed objects in these tests. */
  private static final Address OTHER = Addresses.of(WorkerId.random(), NODE, "127.0.0.1", 1002);

  /** A third process: a borrower of objects owned here. */
  private static final Address THIRD = Addresses.of(WorkerId.random(), NODE, "127.0.0.1", 1003);

  private final AtomicInteger nextIndex = new AtomicInteger(1);
  private final MemoryStore store = new MemoryStore();
  private final FakeUpdates updates = new FakeUpdates();

  /** Objects whose shared-memory copy the table deleted, in order. */
  private final List<ObjectId> deletedShared = new CopyOnWriteArrayList<>();

  private final ReferenceCounter counter =
      new ReferenceCounter(SELF, store, updates, (id, where) -> deletedShared.add(id));

  /** One borrower update sent to an owner. */
  record Sent(Address owner, ObjectId id, ByteString borrower, int delta) {}

  /**
   * Records every update sent. Updates complete at once unless {@link #holdRegistrations} is set:
   * then registrations (+n) stay pending until the test completes them.
   */
  static final class FakeUpdates implements ReferenceCounter.BorrowerUpdates {
    private final List<Sent> sent = new ArrayList<>();
    private final List<CompletableFuture<Void>> held = new ArrayList<>();
    volatile boolean holdRegistrations;

    @Override
    public synchronized CompletableFuture<Void> send(
        Address owner, ObjectId id, Address borrower, int delta) {
      sent.add(new Sent(owner, id, borrower.getWorkerId(), delta));
      if (holdRegistrations && delta > 0) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        held.add(f);
        return f;
      }
      return CompletableFuture.completedFuture(null);
    }

    synchronized List<Sent> sent() {
      return List.copyOf(sent);
    }

    synchronized List<Integer> deltasFor(ObjectId id) {
      return sent.stream().filter(s -> s.id().equals(id)).map(Sent::delta).toList();
    }

    void completeHeld() {
      List<CompletableFuture<Void>> now;
      synchronized (this) {
        now = List.copyOf(held);
        held.clear();
      }
      now.forEach(f -> f.complete(null));
    }
  }

  // ------------------------------------------------------------------ helpers

  private ObjectId newId() {
    return ObjectId.of(TASK, nextIndex.getAndIncrement());
  }

  private static ByteString worker(Address a) {
    return a.getWorkerId();
  }

  /** Keeps only a weak reference to {@code ref}: the caller's strong reference ends here. */
  private static <T> WeakReference<T> weakly(T ref) {
    return new WeakReference<>(ref);
  }

  /**
   * Waits until the garbage collector has collected every ref in {@code refs} and the table has
   * processed their release: a probe ref dropped after them must be released as well (a later
   * collection, handled by the same single cleaner thread).
   */
  @SafeVarargs
  private void awaitCollected(WeakReference<? extends ObjectRefImpl<?>>... refs) {
    await("refs collected")
        .atMost(GC_WAIT)
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(
            () -> {
              System.gc();
              for (WeakReference<?> r : refs) {
                assertThat(r.get()).isNull();
              }
            });
    ObjectId probe = newId();
    WeakReference<ObjectRefImpl<Object>> probeRef = weakly(counter.newRef(probe, SELF));
    awaitFreed(probe);
    assertThat(probeRef.get()).isNull();
  }

  /** Waits (collecting garbage) until {@code id} has left the table and the store. */
  private void awaitFreed(ObjectId id) {
    await("object " + id + " freed")
        .atMost(GC_WAIT)
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(
            () -> {
              System.gc();
              assertThat(counter.isReferenced(id)).as("referenced").isFalse();
              assertThat(store.find(id)).as("in the memory store").isNull();
            });
  }

  private void assertAlive(ObjectId id) {
    assertThat(counter.isReferenced(id)).as("%s referenced", id).isTrue();
    assertThat(store.find(id)).as("%s in the memory store", id).isNotNull();
  }

  private ObjectRefImpl<?> ownedWithValue(ObjectId id) {
    ObjectRefImpl<?> ref = counter.newRef(id, SELF);
    store.put(id, VALUE);
    return ref;
  }

  // ------------------------------------------------------------------ local refs

  @Test
  void anOwnedObjectIsFreedWhenItsLastRefIsCollected() {
    ObjectId id = newId();
    ObjectRefImpl<?> strong = ownedWithValue(id);
    assertAlive(id);
    WeakReference<ObjectRefImpl<?>> ref = weakly(strong);

    strong = null;
    awaitFreed(id);
    assertThat(ref.get()).isNull();
    assertThat(counter.size()).isZero();
    assertThat(store.size()).isZero();
    // An owned object needs no registration anywhere.
    assertThat(updates.sent()).isEmpty();
  }

  @Test
  void anOwnedObjectStaysWhileAnyOfItsRefsIsReachable() {
    ObjectId id = newId();
    ObjectRefImpl<?> kept = ownedWithValue(id);
    WeakReference<ObjectRefImpl<Object>> dropped = weakly(counter.newRef(id, SELF));

    awaitCollected(dropped);
    assertAlive(id);
    Reference.reachabilityFence(kept);

    kept = null;
    awaitFreed(id);
  }

  // ------------------------------------------------------------------ submitted arguments

  private WeakReference<ObjectRefImpl<?>> ownedRefSubmittedAsArgument(ObjectId id) {
    ObjectRefImpl<?> ref = ownedWithValue(id);
    counter.addSubmitted(List.of(new Nested(id, SELF)));
    return weakly(ref);
  }

  @Test
  void submittedArgumentsKeepAnObjectAliveUntilTheTaskEnds() {
    ObjectId id = newId();
    WeakReference<ObjectRefImpl<?>> ref = ownedRefSubmittedAsArgument(id);

    // The caller dropped its ref while the task runs: the argument keeps the object.
    awaitCollected(ref);
    assertAlive(id);

    counter.removeSubmitted(List.of(new Nested(id, SELF)));
    assertThat(counter.isReferenced(id)).isFalse();
    assertThat(store.find(id)).isNull();
  }

  @Test
  void eachSubmittedTaskHoldsItsOwnArgumentCount() {
    ObjectId id = newId();
    List<Nested> args = List.of(new Nested(id, SELF));
    counter.addSubmitted(args);
    counter.addSubmitted(args);
    store.put(id, VALUE);

    counter.removeSubmitted(args);
    assertAlive(id);

    counter.removeSubmitted(args);
    assertThat(counter.isReferenced(id)).isFalse();
    assertThat(store.size()).isZero();
  }

  // ------------------------------------------------------------------ contained refs

  @Test
  void containedRefsAreReleasedWhenTheOuterObjectIsFreed() {
    ObjectId inner = newId();
    ObjectId outer = newId();
    ObjectRefImpl<?> strongInner = ownedWithValue(inner);
    List<Nested> contains = List.of(new Nested(inner, SELF));
    // As put() does: count the nested refs, then store the outer value with its first ref.
    counter.addContained(contains, false);
    ObjectRefImpl<Object> outerRef = counter.adopt(outer, SELF, VALUE, contains);
    WeakReference<ObjectRefImpl<?>> innerRef = weakly(strongInner);
    strongInner = null;

    // The inner ref is gone; the outer object's value still reaches the inner object.
    awaitCollected(innerRef);
    assertAlive(inner);
    assertAlive(outer);
    Reference.reachabilityFence(outerRef);

    outerRef = null;
    awaitFreed(outer);
    awaitFreed(inner);
    assertThat(counter.size()).isZero();
    assertThat(store.size()).isZero();
  }

  @Test
  void refsContainedInAnAlreadyFreedOuterObjectAreReleasedAtOnce() {
    ObjectId inner = newId();
    ObjectId outer = newId();
    List<Nested> contains = List.of(new Nested(inner, SELF));
    counter.addContained(contains, false);
    store.put(inner, VALUE);
    assertAlive(inner);

    // Nothing references the outer object (its refs were dropped while its task ran).
    counter.setContains(outer, contains);

    assertThat(counter.isReferenced(inner)).isFalse();
    assertThat(store.find(inner)).isNull();
  }

  @Test
  void aRefContainedTwiceStaysUntilBothOuterObjectsAreFreed() {
    ObjectId inner = newId();
    ObjectId outerA = newId();
    ObjectId outerB = newId();
    List<Nested> contains = List.of(new Nested(inner, SELF));
    store.put(inner, VALUE);
    counter.addSubmitted(List.of(new Nested(outerA, SELF), new Nested(outerB, SELF)));
    counter.addContained(contains, false);
    counter.setContains(outerA, contains);
    counter.addContained(contains, false);
    counter.setContains(outerB, contains);

    counter.removeSubmitted(List.of(new Nested(outerA, SELF)));
    assertThat(counter.isReferenced(outerA)).isFalse();
    assertAlive(inner);

    counter.removeSubmitted(List.of(new Nested(outerB, SELF)));
    assertThat(counter.isReferenced(inner)).isFalse();
    assertThat(store.find(inner)).isNull();
  }

  // ------------------------------------------------------------------ borrowing

  @Test
  void aBorrowedRefRegistersWithItsOwnerAndUnregistersWhenDropped() {
    ObjectId id = newId();
    ObjectRefImpl<Object> first = counter.newRef(id, OTHER);
    store.put(id, VALUE); // a cached copy of the owner's value
    WeakReference<ObjectRefImpl<Object>> second = weakly(counter.newRef(id, OTHER));

    // One registration per process, however many refs it holds.
    assertThat(updates.sent()).containsExactly(new Sent(OTHER, id, worker(SELF), 1));
    awaitCollected(second);
    assertThat(updates.deltasFor(id)).containsExactly(1);
    assertAlive(id);
    Reference.reachabilityFence(first);

    first = null;
    awaitFreed(id);
    assertThat(updates.sent())
        .containsExactly(
            new Sent(OTHER, id, worker(SELF), 1), new Sent(OTHER, id, worker(SELF), -1));
  }

  @Test
  void aBorrowIsGivenBackOnlyAfterItsRegistrationWasApplied() {
    updates.holdRegistrations = true;
    ObjectId id = newId();
    WeakReference<ObjectRefImpl<Object>> ref = weakly(counter.newRef(id, OTHER));

    awaitFreed(id);
    assertThat(ref.get()).isNull();
    // The -1 must not overtake the +1 still in flight.
    assertThat(updates.deltasFor(id)).containsExactly(1);

    updates.completeHeld();
    assertThat(updates.deltasFor(id)).containsExactly(1, -1);
  }

  @Test
  void awaitRegistrationsWaitsForRegistrationsInFlight() {
    updates.holdRegistrations = true;
    ObjectId id = newId();
    ObjectRefImpl<Object> ref = counter.newRef(id, OTHER);

    long t0 = System.nanoTime();
    counter.awaitRegistrations(Duration.ofMillis(300));
    assertThat((System.nanoTime() - t0) / 1_000_000)
        .as("waited for the registration (ms)")
        .isGreaterThanOrEqualTo(250);

    CompletableFuture<Void> waiter =
        CompletableFuture.runAsync(() -> counter.awaitRegistrations(Duration.ofSeconds(30)));
    updates.completeHeld();
    waiter.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();

    t0 = System.nanoTime();
    counter.awaitRegistrations(Duration.ofSeconds(30));
    assertThat((System.nanoTime() - t0) / 1_000_000)
        .as("nothing left to wait for (ms)")
        .isLessThan(1_000);
    Reference.reachabilityFence(ref);
  }

  @Test
  void borrowersKeepAnOwnedObjectAlive() {
    ObjectId id = newId();
    ObjectRefImpl<?> strong = ownedWithValue(id);
    counter.updateBorrowers(id, worker(THIRD), THIRD.getNodeId(), 1);
    counter.updateBorrowers(id, worker(THIRD), THIRD.getNodeId(), 1);
    counter.updateBorrowers(id, worker(OTHER), OTHER.getNodeId(), 1);
    WeakReference<ObjectRefImpl<?>> ref = weakly(strong);
    strong = null;

    awaitCollected(ref);
    assertAlive(id);

    counter.updateBorrowers(id, worker(THIRD), THIRD.getNodeId(), -1);
    assertAlive(id);
    counter.updateBorrowers(id, worker(OTHER), OTHER.getNodeId(), -1);
    assertAlive(id);
    counter.updateBorrowers(id, worker(THIRD), THIRD.getNodeId(), -1);
    assertThat(counter.isReferenced(id)).isFalse();
    assertThat(store.find(id)).isNull();
    // An owner sends nothing about its own objects.
    assertThat(updates.sent()).isEmpty();
  }

  @Test
  void theBorrowsOfWorkersOnADeadNodeAreForgotten() {
    ObjectId id = newId();
    ObjectRefImpl<?> strong = ownedWithValue(id);
    NodeId lost = NodeId.random();
    Address onLostNode = Addresses.of(WorkerId.random(), lost, "127.0.0.1", 1004);
    counter.updateBorrowers(id, worker(onLostNode), onLostNode.getNodeId(), 2);
    counter.updateBorrowers(id, worker(THIRD), THIRD.getNodeId(), 1);
    WeakReference<ObjectRefImpl<?>> ref = weakly(strong);
    strong = null;
    awaitCollected(ref);

    counter.removeBorrowersOnNode(ByteString.copyFrom(lost.toBytes()));
    assertAlive(id);
    // A borrow sent before the node died that arrives after the news counts for nothing.
    counter.updateBorrowers(id, worker(onLostNode), onLostNode.getNodeId(), 1);
    counter.updateBorrowers(id, worker(THIRD), THIRD.getNodeId(), -1);

    assertThat(counter.isReferenced(id)).as("nothing left on a live node").isFalse();
    assertThat(store.find(id)).isNull();
  }

  @Test
  void aBorrowerRegisteringForAFreedObjectDoesNotBringItBack() {
    ObjectId id = newId();

    counter.updateBorrowers(id, worker(THIRD), THIRD.getNodeId(), 1);

    assertThat(counter.isReferenced(id)).isFalse();
    assertThat(counter.size()).isZero();
  }

  @Test
  void registeringATaskOwnerAsBorrowerGoesToEachNestedRefsOwner() {
    ObjectId remote = newId();
    ObjectId local = newId();
    ObjectRefImpl<?> strong = ownedWithValue(local);

    CompletableFuture<Void> done =
        counter.registerBorrower(
            List.of(new Nested(remote, OTHER), new Nested(local, SELF)), THIRD);
    WeakReference<ObjectRefImpl<?>> localRef = weakly(strong);
    strong = null;

    assertThat(done).isCompleted();
    assertThat(updates.sent()).containsExactly(new Sent(OTHER, remote, worker(THIRD), 1));
    // The object owned here counts the task owner as a borrower directly.
    awaitCollected(localRef);
    assertAlive(local);
    counter.updateBorrowers(local, worker(THIRD), THIRD.getNodeId(), -1);
    assertThat(counter.isReferenced(local)).isFalse();
  }

  // ------------------------------------------------------------------ pre-registered refs

  @Test
  void preRegisteredNestedRefsBecomeContainedWithoutASecondRegistration() {
    ObjectId id = newId();
    List<Nested> nested = List.of(new Nested(id, OTHER));

    // A task's return nests a ref the executor already registered this process for.
    counter.addContained(nested, true);
    store.put(id, VALUE);
    ObjectRefImpl<Object> ref = counter.newRef(id, OTHER); // the caller deserializes the value

    assertThat(updates.sent()).isEmpty();
    assertAlive(id);

    counter.releaseContained(nested);
    assertAlive(id);
    assertThat(updates.sent()).isEmpty();
    Reference.reachabilityFence(ref);

    ref = null;
    awaitFreed(id);
    assertThat(updates.sent()).containsExactly(new Sent(OTHER, id, worker(SELF), -1));
  }

  @Test
  void preRegisteredRefsToOwnObjectsTurnTheSelfBorrowIntoAContainedCount() {
    ObjectId id = newId();
    List<Nested> nested = List.of(new Nested(id, SELF));
    counter.addSubmitted(nested);
    store.put(id, VALUE);
    // The executor of a task returning this process's own ref registered it as a borrower.
    counter.updateBorrowers(id, worker(SELF), SELF.getNodeId(), 1);
    counter.addContained(nested, true);

    counter.removeSubmitted(nested);
    assertAlive(id);

    counter.releaseContained(nested);
    assertThat(counter.isReferenced(id)).isFalse();
    assertThat(store.find(id)).isNull();
    assertThat(updates.sent()).isEmpty();
  }

  @Test
  void dropPreRegisteredGivesTheBorrowBack() {
    ObjectId id = newId();

    counter.dropPreRegistered(List.of(new Nested(id, OTHER)));

    assertThat(updates.sent()).containsExactly(new Sent(OTHER, id, worker(SELF), -1));
    assertThat(counter.isReferenced(id)).isFalse();
  }

  @Test
  void dropPreRegisteredOfABorrowAlsoHeldLocallyIsGivenBackWithTheLocalOne() {
    ObjectId id = newId();
    ObjectRefImpl<Object> ref = counter.newRef(id, OTHER);
    assertThat(updates.deltasFor(id)).containsExactly(1);

    counter.dropPreRegistered(List.of(new Nested(id, OTHER)));
    assertThat(counter.isReferenced(id)).isTrue();
    Reference.reachabilityFence(ref);

    ref = null;
    awaitFreed(id);
    // Both borrows are given back: the one this process registered (+1) and the one the
    // executor registered on its behalf.
    assertThat(updates.deltasFor(id)).containsExactly(1, -2);
  }

  @Test
  void dropPreRegisteredOfAnOwnObjectRemovesTheSelfBorrow() {
    ObjectId id = newId();
    List<Nested> nested = List.of(new Nested(id, SELF));
    counter.addSubmitted(nested);
    counter.updateBorrowers(id, worker(SELF), SELF.getNodeId(), 1);

    counter.dropPreRegistered(nested);
    counter.removeSubmitted(nested);

    assertThat(counter.isReferenced(id)).isFalse();
    assertThat(updates.sent()).isEmpty();
  }

  // ------------------------------------------------------------------ values

  @Test
  void storeIfReferencedDropsValuesOfUnreferencedObjects() {
    ObjectId unreferenced = newId();
    ObjectId referenced = newId();
    counter.addSubmitted(List.of(new Nested(referenced, SELF)));

    counter.storeIfReferenced(unreferenced, VALUE);
    counter.storeIfReferenced(referenced, VALUE);

    assertThat(store.find(unreferenced)).isNull();
    assertThat(store.find(referenced)).isCompletedWithValue(VALUE);
    assertThat(store.size()).isEqualTo(1);
  }

  // ------------------------------------------------------------------ streamed items

  @Test
  void aCarriedItemRefIsCountedOnlyOnceSerialized() {
    ObjectId id = newId();
    ObjectRefImpl<Object> item = counter.adoptItem(id, SELF, VALUE, List.of());

    assertThat(item.carriedValue()).isEqualTo(VALUE);
    assertThat(counter.isReferenced(id)).isFalse();
    assertThat(store.size()).isZero();

    counter.noteSerialized(item);
    assertAlive(id);
    assertThat(store.find(id)).isCompletedWithValue(VALUE);
    counter.noteSerialized(item);
    assertThat(counter.size()).isEqualTo(1);

    item = null;
    awaitFreed(id);
    assertThat(store.size()).isZero();
  }

  @Test
  void aCarriedItemRefThatNeverLeavesTheProcessNeverEntersTheTable() {
    ObjectId id = newId();
    WeakReference<ObjectRefImpl<Object>> item =
        weakly(counter.adoptItem(id, SELF, VALUE, List.of()));

    await()
        .atMost(GC_WAIT)
        .untilAsserted(
            () -> {
              System.gc();
              assertThat(item.get()).isNull();
            });
    assertThat(counter.size()).isZero();
    assertThat(store.size()).isZero();
  }

  @Test
  void anItemWithNestedRefsIsCountedAtOnceAndReleasesThemWhenFreed() {
    ObjectId inner = newId();
    ObjectId id = newId();
    List<Nested> contains = List.of(new Nested(inner, OTHER));
    counter.addContained(contains, true);
    ObjectRefImpl<Object> item = counter.adoptItem(id, SELF, VALUE, contains);

    assertAlive(id);
    assertThat(counter.isReferenced(inner)).isTrue();
    Reference.reachabilityFence(item);

    item = null;
    awaitFreed(id);
    assertThat(counter.isReferenced(inner)).isFalse();
    assertThat(updates.sent()).containsExactly(new Sent(OTHER, inner, worker(SELF), -1));
  }

  // ------------------------------------------------------------------ shared-memory copies

  @Test
  void anOwnedObjectsSharedCopyIsDeletedWhenItIsFreed() {
    ObjectId id = newId();
    ObjectRefImpl<Object> ref = counter.newRef(id, SELF);
    store.put(id, SHARED);
    assertThat(deletedShared).isEmpty();

    ref = null;
    awaitFreed(id);
    assertThat(deletedShared).containsExactly(id);
  }

  @Test
  void aBorrowerNeverDeletesTheOwnersSharedCopy() {
    ObjectId id = newId();
    ObjectRefImpl<Object> ref = counter.newRef(id, OTHER);
    store.put(id, SHARED); // the location of the owner's copy, as fetched

    ref = null;
    awaitFreed(id);
    assertThat(updates.deltasFor(id)).containsExactly(1, -1);
    assertThat(deletedShared).isEmpty();
  }

  @Test
  void aSharedValueArrivingForAnUnreferencedObjectIsDeleted() {
    ObjectId unreferenced = newId();
    ObjectId referenced = newId();
    counter.addSubmitted(List.of(new Nested(referenced, SELF)));

    counter.storeIfReferenced(unreferenced, SHARED);
    counter.storeIfReferenced(referenced, SHARED);

    assertThat(deletedShared).containsExactly(unreferenced);
    assertThat(store.find(referenced)).isCompletedWithValue(SHARED);
  }

  @Test
  void aStreamedItemInSharedMemoryIsCountedAtOnceAndDeletedWhenFreed() {
    ObjectId id = newId();
    ObjectRefImpl<Object> item = counter.adoptItem(id, SELF, SHARED, List.of());

    assertThat(item.carriedValue()).isNull();
    assertAlive(id);

    item = null;
    awaitFreed(id);
    assertThat(deletedShared).containsExactly(id);
  }

  // ------------------------------------------------------------------ collecting refs

  @Test
  void nestedCollectionScopesSeeTheirOwnRefs() {
    ObjectRefImpl<?> a = new ObjectRefImpl<>(newId(), SELF);
    ObjectRefImpl<?> b = new ObjectRefImpl<>(newId(), OTHER);
    ObjectRefImpl<?> c = new ObjectRefImpl<>(newId(), SELF);
    ObjectRefImpl<?> outside = new ObjectRefImpl<>(newId(), SELF);

    counter.noteSerialized(outside);
    int outer = counter.beginCollect();
    counter.noteSerialized(a);
    int inner = counter.beginCollect();
    counter.noteSerialized(b);
    List<Nested> innerRefs = counter.endCollect(inner);
    counter.noteSerialized(c);
    List<Nested> outerRefs = counter.endCollect(outer);

    assertThat(innerRefs).containsExactly(new Nested(b.id(), OTHER));
    // The outer scope also sees the refs of the scope inside it.
    assertThat(outerRefs)
        .containsExactly(
            new Nested(a.id(), SELF), new Nested(b.id(), OTHER), new Nested(c.id(), SELF));

    // Refs noted outside any scope are not collected by a later one.
    counter.noteSerialized(outside);
    int later = counter.beginCollect();
    assertThat(counter.endCollect(later)).isEmpty();
    // Noting uncounted refs never counts them.
    assertThat(counter.size()).isZero();
  }

  @Test
  void collectionScopesArePerThread() throws Exception {
    ObjectRefImpl<?> mine = new ObjectRefImpl<>(newId(), SELF);
    ObjectRefImpl<?> theirs = new ObjectRefImpl<>(newId(), SELF);

    int mark = counter.beginCollect();
    Thread other = Thread.ofPlatform().start(() -> counter.noteSerialized(theirs));
    other.join();
    counter.noteSerialized(mine);

    assertThat(counter.endCollect(mark)).containsExactly(new Nested(mine.id(), SELF));
  }

  // ------------------------------------------------------------------ shutdown

  @Test
  void aClosedTableSendsNoBorrowerUpdates() {
    counter.close();
    ObjectId id = newId();
    WeakReference<ObjectRefImpl<Object>> ref = weakly(counter.newRef(id, OTHER));

    awaitFreed(id);
    assertThat(ref.get()).isNull();
    assertThat(updates.sent()).isEmpty();
  }
}
