package dev.sluice.runtime.executor;

import dev.sluice.runtime.generator.CreditBatching;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturnsReply;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The executor's side of a streaming generator's backpressure (Ray's generator waiter): counts
 * items generated and the consumed count the owner's replies carry, blocks the producer while
 * {@code generated - consumed >= threshold}, and tracks reports still unanswered so the final reply
 * waits for them. The window is {@link CreditBatching}'s: up to {@code threshold} items in flight,
 * never more; the owner returns the credit in batches.
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
    generated.incrementAndGet();
    if (stalledSince.get() == 0 && creditExhausted()) {
      stalledSince.compareAndSet(0, System.nanoTime());
    }
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
    return !streamGone && !ownerGone && !credit.mayProduce(generated.get(), consumed.get());
  }

  /** The reply to a report carrying {@code items} items arrived. */
  void onReply(ReportGeneratorItemReturnsReply reply, int items) {
    if (reply.getNotFound()) {
      streamGone = true;
    } else {
      long c = reply.getTotalNumObjectConsumed();
      consumed.accumulateAndGet(c, Math::max);
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
    return credit.allowedTotal(consumed.get());
  }

  /** Blocks while backpressure forbids producing another item. Interruptible (cancellation). */
  void awaitCredit() throws InterruptedException {
    if (!creditExhausted()) {
      return;
    }
    synchronized (this) {
      waiting++;
      try {
        while (creditExhausted()) {
          wait();
        }
      } finally {
        waiting--;
      }
    }
  }

  /**
   * As {@link #awaitCredit()}, telling {@code paused} (outside this monitor) when the producer
   * starts and stops waiting, so its worker can lend its CPU while paused (DESIGN "Nested tasks": a
   * paused producer lends its CPU like a task blocked in {@code get}).
   */
  void awaitCredit(Consumer<Boolean> paused) throws InterruptedException {
    if (!creditExhausted()) {
      return;
    }
    paused.accept(true);
    try {
      awaitCredit();
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
