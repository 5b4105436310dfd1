package dev.sluice.runtime.executor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.sluice.runtime.generator.CreditBatching;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturnsReply;

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
 * the waits; replies arrive on a transport thread. All state is guarded by this object's monitor.
 */
final class GeneratorWaiter {
  private final CreditBatching credit;

  @GuardedBy("this")
  private long generated;

  @GuardedBy("this")
  private long consumed;

  @GuardedBy("this")
  private long unanswered;

  @GuardedBy("this")
  private boolean streamGone;

  @GuardedBy("this")
  private boolean ownerGone;

  @GuardedBy("this")
  private Runnable onCredit = () -> {};

  /** A waiter with {@code threshold} (-1: no backpressure). */
  GeneratorWaiter(long threshold) {
    this.credit = CreditBatching.forWindow(threshold);
  }

  /** Runs after every reply, outside the monitor: the async driver requests more items there. */
  synchronized void onCredit(Runnable action) {
    this.onCredit = action;
  }

  /** The report of one more item was issued (handed to the task stream). */
  synchronized void onIssued() {
    generated++;
    unanswered++;
  }

  /** True if backpressure forbids the next item: the producer is about to wait. */
  synchronized boolean creditExhausted() {
    return !streamGone && !ownerGone && !credit.mayProduce(generated, consumed);
  }

  /** The reply to a report carrying {@code items} items arrived. */
  void onReply(ReportGeneratorItemReturnsReply reply, int items) {
    Runnable action;
    synchronized (this) {
      unanswered -= items;
      if (reply.getNotFound()) {
        streamGone = true;
      } else {
        consumed = Math.max(consumed, reply.getTotalNumObjectConsumed());
      }
      notifyAll();
      action = onCredit;
    }
    action.run();
  }

  /** The task stream to the owner broke: nothing will be answered any more. */
  void onOwnerGone() {
    Runnable action;
    synchronized (this) {
      ownerGone = true;
      notifyAll();
      action = onCredit;
    }
    action.run();
  }

  synchronized boolean ownerGone() {
    return ownerGone;
  }

  /**
   * True once a report got a "not found" reply: the consumer closed the stream (or it is stale).
   */
  synchronized boolean streamGone() {
    return streamGone;
  }

  /** How many items the producer may have generated in total right now. */
  synchronized long allowedTotal() {
    if (streamGone || ownerGone) {
      return Long.MAX_VALUE;
    }
    return credit.allowedTotal(consumed);
  }

  /** Blocks while backpressure forbids producing another item. Interruptible (cancellation). */
  synchronized void awaitCredit() throws InterruptedException {
    while (creditExhausted()) {
      wait();
    }
  }

  /**
   * As {@link #awaitCredit()}, telling {@code paused} (outside this monitor) when the producer
   * starts and stops waiting, so its worker can lend its CPU while paused (DESIGN "Nested tasks": a
   * paused producer lends its CPU like a task blocked in {@code get}).
   */
  void awaitCredit(java.util.function.Consumer<Boolean> paused) throws InterruptedException {
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
  synchronized void awaitAllAnswered() throws InterruptedException {
    while (unanswered > 0 && !ownerGone) {
      wait();
    }
  }

  synchronized long generated() {
    return generated;
  }
}
