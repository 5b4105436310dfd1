package dev.sluice.runtime.executor;

import dev.sluice.runtime.generator.CreditBatching;
import dev.sluice.runtime.generator.SharedCredit;
import dev.sluice.runtime.generator.SharedItems;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturnsReply;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The executor's side of a streaming generator's backpressure (Ray's generator waiter): counts
 * items generated and the consumed count the owner's replies carry, blocks the producer while
 * {@code generated - consumed >= threshold}, and tracks reports still unanswered so the final reply
 * waits for them. The window is {@link CreditBatching}'s: up to {@code threshold} items in flight,
 * never more; the owner returns the credit in batches. On the owner's node the credit is also read
 * in shared memory ({@link SharedCredit}): a producer out of credit spins there briefly before it
 * waits for a reply.
 *
 * <p>A "not found" reply (the stream was deleted, or the report was stale) counts as "every item
 * consumed": the producer is never left blocked on a consumer that is gone. If the owner itself is
 * gone (the task stream broke), the generator must stop.
 *
 * <p>Threads: the producer (execution thread or a publisher's thread) calls {@link #onIssued} and
 * the waits; replies arrive on a transport thread. The counts and flags are atomic and only ever
 * grow, so the producer's checks take no lock; only a thread that must wait takes this object's
 * monitor, and a reply takes it only when some thread waits.
 */
final class GeneratorWaiter {
  private final CreditBatching credit;
  private final AtomicLong generated = new AtomicLong();
  private final AtomicLong consumed = new AtomicLong();
  private final AtomicLong unanswered = new AtomicLong();
  private volatile boolean streamGone;
  private volatile boolean ownerGone;
  private volatile Runnable onCredit = () -> {};

  /** The stream's shared-credit slot, once the owner offered one this process can read. */
  private volatile SharedCredit shared;

  /** The stream's item ring (DESIGN "Shared items"), once the owner offered one with the slot. */
  private volatile SharedItems.Writer sharedItems;

  /**
   * Reports again the items written into the ring that the owner has not drained, and the last one:
   * run before the producer waits for a reply while none is outstanding (set by the generator once
   * it wrote an item into the ring).
   */
  private volatile Runnable resendShared;

  /** Threads in a wait on this object's monitor. */
  private volatile int waiting;

  /** When the credit ran out (System.nanoTime), or 0 while there is credit. */
  private final AtomicLong stalledSince = new AtomicLong();

  /** Told how long each stall lasted, in nanoseconds (the process's metrics). */
  private final LongConsumer stalled;

  /** A waiter with {@code threshold} (-1: no backpressure). */
  GeneratorWaiter(long threshold) {
    this(threshold, nanos -> {});
  }

  /** A waiter with {@code threshold} (-1: no backpressure) telling {@code stalled} its stalls. */
  GeneratorWaiter(long threshold, LongConsumer stalled) {
    this.credit = CreditBatching.forWindow(threshold);
    this.stalled = stalled;
  }

  /** Runs after every reply, outside any lock: the async driver requests more items there. */
  void onCredit(Runnable action) {
    this.onCredit = action;
  }

  /** The report of one more item was issued (handed to the task stream). */
  void onIssued() {
    unanswered.incrementAndGet();
    countGenerated();
  }

  /** One more item was generated; a stall starts if it used the last credit. */
  private void countGenerated() {
    generated.incrementAndGet();
    if (stalledSince.get() == 0 && creditExhausted()) {
      stalledSince.compareAndSet(0, System.nanoTime());
    }
  }

  /**
   * One more item was written into the stream's ring (DESIGN "Shared items"): it counts as
   * generated, but no reply will answer it.
   */
  void onWrittenShared() {
    countGenerated();
  }

  /** An item already generated was reported again (its reply is awaited, it is not generated). */
  void onResent() {
    unanswered.incrementAndGet();
  }

  /** The stream's item ring, or null while the owner offered none. */
  SharedItems.Writer sharedItems() {
    return sharedItems;
  }

  /** Sets what reports the ring's items again before a wait (see {@link #resendShared}). */
  void onWaitWithoutReports(Runnable resend) {
    this.resendShared = resend;
  }

  /** Ends the current stall, if there is one and the credit is back (once, whoever sees it). */
  private void endStallIfCredited() {
    long since = stalledSince.get();
    if (since != 0 && !creditExhausted() && stalledSince.compareAndSet(since, 0)) {
      stalled.accept(System.nanoTime() - since);
    }
  }

  /** True while the only item issued is the first one. */
  boolean onlyFirstIssued() {
    return generated.get() == 1;
  }

  /** True if backpressure forbids the next item: the producer is about to wait. */
  boolean creditExhausted() {
    return !streamGone && !ownerGone && !credit.mayProduce(generated.get(), consumed());
  }

  /**
   * The consumed count: the largest the replies carried or, with shared credit, the owner last
   * published (DESIGN "Shared credit"); both are the same cumulative count.
   */
  private long consumed() {
    long c = consumed.get();
    SharedCredit s = shared;
    if (s != null) {
      long published = s.consumed();
      if (published > c) {
        consumed.accumulateAndGet(published, Math::max);
        c = published;
      }
    }
    return c;
  }

  /** True once the producer reads its credit in shared memory too. */
  boolean sharedCredit() {
    return shared != null;
  }

  /** The reply to a report carrying {@code items} items arrived. */
  void onReply(ReportGeneratorItemReturnsReply reply, int items) {
    if (reply.getNotFound()) {
      streamGone = true;
    } else {
      long c = reply.getTotalNumObjectConsumed();
      consumed.accumulateAndGet(c, Math::max);
      if (reply.hasSharedCredit() && shared == null) {
        shared = SharedCredit.open(reply.getSharedCredit());
        if (shared != null) {
          sharedItems = SharedItems.open(reply.getSharedCredit());
        }
      }
    }
    unanswered.addAndGet(-items);
    endStallIfCredited();
    wakeWaiters();
    onCredit.run();
  }

  /** The task stream to the owner broke: nothing will be answered any more. */
  void onOwnerGone() {
    ownerGone = true;
    endStallIfCredited();
    wakeWaiters();
    onCredit.run();
  }

  boolean ownerGone() {
    return ownerGone;
  }

  /**
   * True once a report got a "not found" reply: the consumer closed the stream (or it is stale).
   */
  boolean streamGone() {
    return streamGone;
  }

  /** How many items the producer may have generated in total right now. */
  long allowedTotal() {
    if (streamGone || ownerGone) {
      return Long.MAX_VALUE;
    }
    return credit.allowedTotal(consumed());
  }

  /** Blocks while backpressure forbids producing another item. Interruptible (cancellation). */
  void awaitCredit() throws InterruptedException {
    if (!creditExhausted() || spunForSharedCredit()) {
      return;
    }
    waitForReply();
  }

  /**
   * With shared credit, spins up to {@link SharedCredit#SPIN_NANOS} reading it until a batch of the
   * window ({@link CreditBatching#batch}) is free, so the items made next travel several to a
   * report, as with held replies; true if any credit came back by then (the common case of a
   * pipelined stream: no thread wake-up), false if the producer must wait for a reply.
   */
  private boolean spunForSharedCredit() {
    if (shared == null) {
      return false;
    }
    long want = generated.get() + credit.batch();
    boolean credited =
        SharedCredit.spinUntil(
                () -> streamGone || ownerGone || credit.allowedTotal(consumed()) >= want,
                SharedCredit.SPIN_NANOS)
            || !creditExhausted();
    if (credited) {
      endStallIfCredited();
    }
    return credited;
  }

  /**
   * Waits on this object's monitor until a reply (or the owner's loss) gives credit back. Items
   * written into the ring get no reply: if none is outstanding, they are reported again first, so
   * one is (DESIGN "Shared items").
   */
  private void waitForReply() throws InterruptedException {
    long resentAt = -1;
    while (creditExhausted()) {
      Runnable resend = resendShared;
      // Once per consumed count: a reply that gave no credit is not asked for again in a loop.
      if (resend != null && unanswered.get() <= 0 && consumed() != resentAt) {
        resentAt = consumed();
        resend.run();
      }
      synchronized (this) {
        waiting++;
        try {
          if (creditExhausted()
              && (resend == null || unanswered.get() > 0 || consumed() == resentAt)) {
            wait();
          }
        } finally {
          waiting--;
        }
      }
    }
  }

  /**
   * As {@link #awaitCredit()}, telling {@code paused} (outside this monitor) when the producer
   * starts and stops waiting, so its worker can lend its CPU while paused (DESIGN "Nested tasks": a
   * paused producer lends its CPU like a task blocked in {@code get}).
   */
  void awaitCredit(Consumer<Boolean> paused) throws InterruptedException {
    if (!creditExhausted() || spunForSharedCredit()) {
      return;
    }
    paused.accept(true);
    try {
      waitForReply();
    } finally {
      paused.accept(false);
    }
  }

  /** Blocks until every issued report is answered (or the owner is gone). Interruptible. */
  void awaitAllAnswered() throws InterruptedException {
    if (unanswered.get() <= 0 || ownerGone) {
      return;
    }
    synchronized (this) {
      waiting++;
      try {
        while (unanswered.get() > 0 && !ownerGone) {
          wait();
        }
      } finally {
        waiting--;
      }
    }
  }

  long generated() {
    return generated.get();
  }

  /**
   * Wakes the waiting threads, if any. A waiter counts itself under the monitor before it checks
   * the state, and the state is written before {@code waiting} is read here, so either the waiter
   * sees the new state or this sees the waiter (and notifies it once it is in {@code wait}).
   */
  private void wakeWaiters() {
    if (waiting > 0) {
      synchronized (this) {
        notifyAll();
      }
    }
  }
}
