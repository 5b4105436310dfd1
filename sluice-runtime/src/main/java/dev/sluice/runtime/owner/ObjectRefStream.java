package dev.sluice.runtime.owner;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.generator.CreditBatching;
import dev.sluice.runtime.generator.GeneratorIds;
import dev.sluice.runtime.generator.SharedItems;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.SharedCreditSlot;
import dev.sluice.runtime.state.StreamSource;
import io.micrometer.core.instrument.Counter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The caller-side state of one streaming generator (DESIGN "Streaming generator protocol"): which
 * yield indices were reported, the consumer's cursor, the end of the stream and the backpressure
 * replies held back. Created before {@code .remote()} returns and fed by the executor's {@code
 * ReportGeneratorItemReturns}.
 *
 * <p>Protocol rules kept here:
 *
 * <ul>
 *   <li>reports may arrive in any order; each index is inserted once; indices at or past the end,
 *       already-consumed indices and duplicates are ignored; a report from an attempt older than
 *       the task's current one is stale and answered "not found";
 *   <li>only the next in-order index is handed to the consumer, and only once it was reported;
 *   <li>the final reply sets the end at the item count, first writer wins; a report below the end
 *       that arrives later is still accepted;
 *   <li>with backpressure ({@code threshold >= 1}) a report's reply is held when the report fills
 *       the window and answered, with the cumulative consumed count, when the consumer freed a
 *       batch of it ({@link CreditBatching}, kept by {@link HeldReplies}); a report only of indices
 *       the consumer already passed (a retry re-reporting them) is answered at once;
 *   <li>a failure of the task as a whole ends the stream at the consumer's cursor, so a gap left by
 *       out-of-order reports can never hang the consumer; the consumer then gets the generator ref
 *       once, whose {@code get()} throws;
 *   <li>deleting the stream releases unconsumed items and answers held and later reports with "not
 *       found", so a producer blocked on backpressure is let go.
 * </ul>
 *
 * <p>On the producer's node, items may also come through the stream's ring in shared memory (DESIGN
 * "Shared items"): they are drained under the lock, in order, and inserted as a report's, before
 * any consumer looks at the cursor and before the end is set; the ring's polling flag is cleared
 * before a consumer relies on being woken.
 *
 * <p>Unconsumed items are held here, not in the memory store: an item becomes an object of the
 * store, with a counted ref, when the consumer takes it, so an item that is never consumed costs
 * the reference table nothing and a deleted stream leaves nothing behind.
 *
 * <p>Threads: reports and the task's outcome arrive on transport threads, consumers call from their
 * own threads. All state is guarded by {@code lock}, also that of the consumers waiting on the
 * cursor ({@link StreamWaiters}); replies and async completions run after it is released, because
 * they may re-enter the transport.
 */
public final class ObjectRefStream implements StreamSource {
  /** Answers one report; called exactly once per report. */
  public interface ReportReply {
    /** Sends the cumulative consumed count, or "not found" when the stream is gone or stale. */
    void send(long totalConsumed, boolean notFound);
  }

  /** What a consumer finds at the cursor. */
  public enum State {
    /** The next in-order item has been reported. */
    ITEM,
    /** The task failed as a whole and the consumer has not seen it: the generator ref is due. */
    FAILURE,
    /** The stream has ended (or was deleted). */
    END,
    /** Nothing is known yet at the cursor. */
    NOT_READY
  }

  private final ObjectId generatorId;
  private final TaskId taskId;
  private final Address owner;
  private final ReferenceCounter refs;
  private final Runnable onDeleted;
  private final Counter consumedItems;

  /**
   * Items taken but not yet added to {@link #consumedItems}: the counter is shared by every stream
   * of the process, so it is updated once per run of items the consumer takes (when it has taken
   * everything there is, or every {@value #COUNT_CONSUMED_EVERY} items, or on delete), not once per
   * item.
   */
  @GuardedBy("lock")
  private int consumedNotCounted;

  private static final int COUNT_CONSUMED_EVERY = 64;
  private final ReentrantLock lock = new ReentrantLock();

  /** Consumers waiting for the cursor: blocked threads, async consumers, ready watchers. */
  @GuardedBy("lock")
  private final StreamWaiters waiters = new StreamWaiters(lock);

  @GuardedBy("lock")
  private int currentAttempt;

  @GuardedBy("lock")
  private long cursor;

  @GuardedBy("lock")
  private long end = -1;

  @GuardedBy("lock")
  private boolean failed;

  @GuardedBy("lock")
  private boolean failureSurfaced;

  @GuardedBy("lock")
  private boolean deleted;

  @GuardedBy("lock")
  private final UnconsumedItems unconsumed = new UnconsumedItems();

  @GuardedBy("lock")
  private final StreamFlow flow = new StreamFlow();

  @GuardedBy("lock")
  private final HeldReplies held;

  /** The window: shared credit is for streams with one. */
  private final int threshold;

  /** The stream's shared-credit slot (DESIGN "Shared credit"), or null. */
  @GuardedBy("lock")
  private SharedCreditSlots.Slot creditSlot;

  /** The stream's item ring (DESIGN "Shared items"), with the credit slot; or null. */
  @GuardedBy("lock")
  private SharedItems.Reader ring;

  /**
   * The stream of the generator whose ref is {@code generatorId}, owned by the process at {@code
   * owner}, with {@code threshold} (-1 = no backpressure); {@code onDeleted} runs once when it is
   * deleted; each item the consumer takes counts in {@code consumedItems}.
   */
  public ObjectRefStream(
      ObjectId generatorId,
      Address owner,
      int threshold,
      ReferenceCounter refs,
      Runnable onDeleted,
      Counter consumedItems) {
    this(
        generatorId,
        owner,
        threshold,
        refs,
        onDeleted,
        consumedItems,
        System::nanoTime,
        HeldReplies.DEFAULT_SCHEDULER);
  }

  /** As above, with the clock and the timer that credit batching uses (tests pass fakes). */
  ObjectRefStream(
      ObjectId generatorId,
      Address owner,
      int threshold,
      ReferenceCounter refs,
      Runnable onDeleted,
      Counter consumedItems,
      LongSupplier clock,
      HeldReplies.Scheduler scheduler) {
    this.consumedItems = consumedItems;
    this.threshold = threshold;
    this.held =
        new HeldReplies(CreditBatching.forWindow(threshold), clock, scheduler, this::creditTimer);
    this.onDeleted = onDeleted;
    this.generatorId = generatorId;
    this.taskId = generatorId.taskId();
    this.owner = owner;
    this.refs = refs;
  }

  /** The generator ref's id, {@code ObjectId(T, 1)}. */
  public ObjectId generatorId() {
    return generatorId;
  }

  /** The id of yield index {@code k}: {@code ObjectId(T, 2 + k)}. */
  public ObjectId itemId(long k) {
    return GeneratorIds.itemId(taskId, k);
  }

  /** The generator ref, handed to the consumer once when the task failed as a whole. */
  public ObjectRefImpl<Void> generatorRef() {
    return refs.newRef(generatorId, owner);
  }

  // ------------------------------------------------------------------ producer side

  /**
   * The stream's shared-credit slot, taken from {@code slots} at the first call (DESIGN "Shared
   * credit"), offered to the producer at {@code producer}; null if that producer is on another
   * node, the stream has no window, the stream has ended or is gone, or no slot is free.
   */
  public SharedCreditSlot sharedCredit(SharedCreditSlots slots, Address producer) {
    if (threshold < 1 || !producer.getNodeId().equals(owner.getNodeId())) {
      return null;
    }
    lock.lock();
    try {
      if (deleted || end >= 0) {
        return null;
      }
      if (creditSlot == null) {
        creditSlot = slots.allocate(cursor);
        ring = creditSlot == null ? null : creditSlot.ring();
      }
      return creditSlot == null ? null : creditSlot.message();
    } finally {
      lock.unlock();
    }
  }

  /** The stream's item ring, or null (tests). */
  SharedItems.Reader ring() {
    lock.lock();
    try {
      return ring;
    } finally {
      lock.unlock();
    }
  }

  /** The stream ended or is gone: its producer reads no shared credit any more. */
  @GuardedBy("lock")
  private void freeCreditSlotLocked() {
    if (creditSlot != null) {
      creditSlot.free();
      creditSlot = null;
      ring = null;
    }
  }

  /** A retry started: reports from older attempts are stale from now on. */
  public void setAttempt(int attempt) {
    lock.lock();
    try {
      currentAttempt = Math.max(currentAttempt, attempt);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Handles a report of consecutive items starting at {@code firstIndex} from {@code attempt}, and
   * answers it through {@code reply} now or, under backpressure, later.
   */
  public void report(int attempt, long firstIndex, List<ReturnObject> items, ReportReply reply) {
    boolean notFound = false;
    boolean hold = false;
    long consumed;
    List<Runnable> after;
    lock.lock();
    try {
      boolean fromRing = drainRingLocked(null);
      // After a failure of the whole task the stream is over: a producer still running stops.
      if (deleted || failed || attempt < currentAttempt) {
        notFound = true;
        consumed = cursor;
        after = fromRing ? onChangeLocked() : List.of();
        for (int i = 0; i < items.size(); i++) {
          release(firstIndex + i, items.get(i));
        }
      } else {
        currentAttempt = attempt;
        boolean aheadOfConsumer = false;
        for (int i = 0; i < items.size(); i++) {
          aheadOfConsumer |= insertLocked(firstIndex + i, items.get(i));
        }
        consumed = cursor;
        // Indices the consumer already passed (a retry re-reporting them) are answered at once.
        hold = aheadOfConsumer && held.hold(unconsumed.size(), reply);
        if (hold) {
          flow.stallStarted(System.nanoTime());
        }
        after = onChangeLocked();
      }
    } finally {
      lock.unlock();
    }
    if (!hold) {
      reply.send(consumed, notFound);
    }
    after.forEach(Runnable::run);
  }

  /**
   * Inserts item {@code index} of the current attempt, unless it is at or past the end or already
   * consumed (then released); true if it is ahead of the consumer.
   */
  @GuardedBy("lock")
  private boolean insertLocked(long index, ReturnObject item) {
    if ((end >= 0 && index >= end) || index < cursor) {
      release(index, item);
      return false;
    }
    flow.reported(index);
    if (!unconsumed.add(index, item)) {
      release(index, item);
    }
    return true;
  }

  /**
   * Takes the items its producer wrote into the stream's ring (DESIGN "Shared items") as reported;
   * true if any was. What the change lets run once the lock is released goes to {@code after}
   * (null: the caller signals the change itself).
   */
  @GuardedBy("lock")
  @SuppressWarnings("GuardedBy") // the sink runs inside drain(), under the lock held here
  private boolean drainRingLocked(List<Runnable> after) {
    SharedItems.Reader r = ring;
    if (r == null || deleted || !r.hasNew()) {
      return false;
    }
    int taken =
        r.drain(
            currentAttempt,
            (index, attempt, payload) -> {
              ReturnObject item;
              try {
                item = ReturnObject.parseFrom(payload);
              } catch (InvalidProtocolBufferException e) {
                return false; // past the checksum it cannot happen; left for the producer to report
              }
              if (attempt < currentAttempt) {
                release(index, item);
              } else {
                currentAttempt = attempt;
                insertLocked(index, item);
              }
              return true;
            });
    if (taken > 0 && after != null) {
      after.addAll(onChangeLocked());
    }
    return taken > 0;
  }

  /**
   * Clears the ring's polling flag, then drains it (DESIGN "Shared items"): a consumer about to
   * rely on being woken; true if items came.
   */
  @GuardedBy("lock")
  private boolean quietRingLocked(List<Runnable> after) {
    if (ring == null) {
      return false;
    }
    ring.polling(false);
    return drainRingLocked(after);
  }

  /** The task's final reply: the stream ends after {@code numItems} items (first writer wins). */
  public void markEnd(long numItems) {
    List<Runnable> after;
    lock.lock();
    try {
      if (end >= 0) {
        return;
      }
      // The producer wrote its items into the ring before it sent the final reply.
      drainRingLocked(null);
      end = numItems;
      freeCreditSlotLocked();
      dropAtOrPastEndLocked();
      after = onChangeLocked();
    } finally {
      lock.unlock();
    }
    after.forEach(Runnable::run);
  }

  /**
   * The task failed as a whole (no retries left, or cancelled; {@code error} is already stored for
   * the generator ref): the stream ends at the consumer's cursor.
   */
  public void fail(ErrorInfo error) {
    List<Runnable> after;
    lock.lock();
    try {
      if (end >= 0) {
        return;
      }
      end = cursor;
      failed = true;
      freeCreditSlotLocked();
      dropAtOrPastEndLocked();
      after = onChangeLocked();
      held.answerAll(cursor, true, after);
      endStallIfReleasedLocked();
    } finally {
      lock.unlock();
    }
    after.forEach(Runnable::run);
  }

  /**
   * Deletes the stream (the consumer closed or dropped the generator): unconsumed items are
   * released and every held or later report is answered "not found". Idempotent.
   */
  public void delete() {
    List<Runnable> after;
    lock.lock();
    try {
      if (deleted) {
        return;
      }
      deleted = true;
      countConsumedLocked();
      freeCreditSlotLocked();
      unconsumed.removeIf(i -> true, this::release);
      after = onChangeLocked();
      held.answerAll(cursor, true, after);
      endStallIfReleasedLocked();
    } finally {
      lock.unlock();
    }
    after.forEach(Runnable::run);
    onDeleted.run();
  }

  @GuardedBy("lock")
  private void dropAtOrPastEndLocked() {
    long endIndex = end;
    unconsumed.removeIf(i -> i >= endIndex, this::release);
  }

  /**
   * Releases what a copy of item {@code index} that will never be consumed holds: the borrows its
   * executor registered for this process on the refs nested in it, and its shared-memory copy
   * unless that is still held here (a duplicate of an unconsumed item) or referenced. Called
   * holding {@code lock}, also as a callback of {@code unconsumed}: it re-enters the lock.
   */
  private void release(long index, ReturnObject item) {
    if (item.getNestedRefsCount() > 0) {
      refs.dropPreRegistered(ReferenceCounter.Nested.in(item));
    }
    lock.lock();
    try {
      if (!unconsumed.contains(index)) {
        refs.discard(itemId(index), item.getValue());
      }
    } finally {
      lock.unlock();
    }
  }

  // ------------------------------------------------------------------ consumer side

  /** What the consumer would find at the cursor now, without consuming. */
  public State peek() {
    List<Runnable> after = new ArrayList<>(0);
    lock.lock();
    try {
      drainRingLocked(after);
      return stateLocked();
    } finally {
      lock.unlock();
      after.forEach(Runnable::run);
    }
  }

  /**
   * Waits up to {@code timeoutNanos} (negative: forever) until something is known at the cursor.
   *
   * @return the state then, {@link State#NOT_READY} on timeout
   */
  public State await(long timeoutNanos) throws InterruptedException {
    List<Runnable> after = new ArrayList<>(0);
    lock.lock();
    try {
      long remaining = timeoutNanos;
      boolean spun = false;
      State s;
      while ((s = stateLocked()) == State.NOT_READY) {
        if (drainRingLocked(after)) {
          continue;
        }
        if (!spun && creditSlot != null && timeoutNanos != 0) {
          spun = true; // a pipelined same-node stream: spin once before blocking
          if (ring != null) {
            ring.polling(true); // and let the producer write into the ring meanwhile
          }
          waiters.spinForChange(timeoutNanos, ring);
        } else if (quietRingLocked(after)) {
          continue;
        } else if (timeoutNanos < 0) {
          waiters.awaitChange();
        } else if (remaining <= 0) {
          return State.NOT_READY;
        } else {
          remaining = waiters.awaitChangeNanos(remaining);
        }
      }
      return s;
    } finally {
      lock.unlock();
      after.forEach(Runnable::run);
    }
  }

  /**
   * Consumes what is at the cursor: the next item's ref, or the generator ref once after a failure.
   * Null at the end or when nothing is ready.
   */
  public ObjectRefImpl<?> poll() {
    List<Runnable> after = new ArrayList<>();
    ObjectRefImpl<?> ref;
    lock.lock();
    try {
      drainRingLocked(after);
      ref = pollLocked(after);
    } finally {
      lock.unlock();
    }
    after.forEach(Runnable::run);
    return ref;
  }

  /** The next ref asynchronously; completes with null at the end. */
  public CompletableFuture<ObjectRefImpl<?>> pollAsync() {
    CompletableFuture<ObjectRefImpl<?>> f;
    List<Runnable> after = new ArrayList<>();
    lock.lock();
    try {
      quietRingLocked(after);
      f = waiters.addAsyncConsumer();
      after.addAll(serveAsyncLocked());
    } finally {
      lock.unlock();
    }
    after.forEach(Runnable::run);
    return f;
  }

  /**
   * Completes once something is known at the cursor (the next item, a failure or the end), without
   * consuming it: what {@code Sluice.waitAny} waits on.
   */
  public CompletableFuture<Void> whenReady() {
    List<Runnable> after = new ArrayList<>(0);
    lock.lock();
    try {
      quietRingLocked(after);
      return stateLocked() != State.NOT_READY
          ? CompletableFuture.completedFuture(null)
          : waiters.addReadyWatcher();
    } finally {
      lock.unlock();
      after.forEach(Runnable::run);
    }
  }

  /** Items consumed so far (the cursor). */
  public long consumed() {
    lock.lock();
    try {
      return cursor;
    } finally {
      lock.unlock();
    }
  }

  /** Reported items not consumed yet. */
  public int unconsumedCount() {
    lock.lock();
    try {
      return unconsumed.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Counters counters() {
    lock.lock();
    try {
      String state = end < 0 ? (deleted ? "CLOSED" : "RUNNING") : failed ? "FAILED" : "FINISHED";
      return new Counters(
          Math.max(flow.produced(), cursor),
          cursor,
          unconsumed.size(),
          flow.stalledNanos(System.nanoTime()),
          state,
          deleted || (end >= 0 && cursor >= end));
    } finally {
      lock.unlock();
    }
  }

  /** True once the stream was deleted. */
  public boolean isDeleted() {
    lock.lock();
    try {
      return deleted;
    } finally {
      lock.unlock();
    }
  }

  /** Adds the items taken since the last time to the process's consumed-items counter. */
  @GuardedBy("lock")
  private void countConsumedLocked() {
    if (consumedNotCounted > 0) {
      consumedItems.increment(consumedNotCounted);
      consumedNotCounted = 0;
    }
  }

  @GuardedBy("lock")
  private State stateLocked() {
    if (deleted) {
      return State.END;
    }
    if (end >= 0 && cursor >= end) {
      return failed && !failureSurfaced ? State.FAILURE : State.END;
    }
    return unconsumed.contains(cursor) ? State.ITEM : State.NOT_READY;
  }

  @GuardedBy("lock")
  private ObjectRefImpl<?> pollLocked(List<Runnable> after) {
    switch (stateLocked()) {
      case ITEM -> {
        ReturnObject item = unconsumed.takeFirst();
        List<ReferenceCounter.Nested> contains = List.of();
        if (item.getNestedRefsCount() > 0) {
          contains = ReferenceCounter.Nested.in(item);
          refs.addContained(contains, true);
        }
        ObjectRefImpl<?> ref = refs.adoptItem(itemId(cursor), owner, item.getValue(), contains);
        cursor++;
        if (creditSlot != null) {
          creditSlot.publish(cursor);
        }
        // ConsumedItemsCount: one counter update per run of items taken, not one per item.
        consumedNotCounted++;
        if (consumedNotCounted >= COUNT_CONSUMED_EVERY || unconsumed.size() == 0) {
          countConsumedLocked();
        }
        held.onConsumed(unconsumed.size(), cursor, after);
        endStallIfReleasedLocked();
        return ref;
      }
      case FAILURE -> {
        failureSurfaced = true;
        return generatorRef();
      }
      default -> {
        return null;
      }
    }
  }

  /** Ends the producer's stall (as the stream's counters see it) once no reply is held. */
  @GuardedBy("lock")
  private void endStallIfReleasedLocked() {
    if (flow.stalling() && held.size() == 0) {
      flow.stallEnded(System.nanoTime());
    }
  }

  /** Credit owed to held replies waited its longest: answers them if it is still owed. */
  private void creditTimer() {
    List<Runnable> after = new ArrayList<>(1);
    lock.lock();
    try {
      held.onTimer(unconsumed.size(), cursor, after);
      endStallIfReleasedLocked();
    } finally {
      lock.unlock();
    }
    after.forEach(Runnable::run);
  }

  /**
   * Something changed at the cursor: wakes the waiting consumers; returns what must run once the
   * lock is released (completions of async consumers and ready watchers, replies freed by them).
   */
  @GuardedBy("lock")
  private List<Runnable> onChangeLocked() {
    waiters.signal();
    List<Runnable> out = serveAsyncLocked();
    if (waiters.hasReadyWatcher() && stateLocked() != State.NOT_READY) {
      waiters.ready(out);
    }
    return out;
  }

  /** Serves the async consumers, oldest first, while the cursor has something for them. */
  @GuardedBy("lock")
  private List<Runnable> serveAsyncLocked() {
    List<Runnable> out = new ArrayList<>();
    while (waiters.hasAsyncConsumer() && stateLocked() != State.NOT_READY) {
      waiters.serve(pollLocked(out), out);
    }
    return out;
  }
}
