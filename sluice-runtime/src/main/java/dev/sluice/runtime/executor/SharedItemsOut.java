package dev.sluice.runtime.executor;

import com.google.protobuf.CodedOutputStream;
import dev.sluice.runtime.generator.SharedCredit;
import dev.sluice.runtime.generator.SharedItems;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * The producer's side of shared items (DESIGN "Shared items") for one generator attempt: offers
 * each item its iterator yields to the stream's ring, once the owner offered one, and keeps the
 * items written there that the owner has not drained yet, to report them again (and at least the
 * last) before the producer waits for a reply with none outstanding.
 *
 * <p>Threads: the generator's execution thread only; the reports again are sent from its wait for
 * credit ({@link GeneratorWaiter}), on the same thread.
 */
final class SharedItemsOut {
  /** Reports an item again; false if the owner is gone. */
  interface Resender {
    boolean resend(long index, ReturnObject.Builder value);
  }

  private record Written(long position, long index, ReturnObject.Builder value) {}

  /** Items counted in the produced-items metric at most this many at a time. */
  private static final int COUNT_EVERY = 64;

  private final int attempt;
  private final GeneratorWaiter waiter;
  private final Resender resender;
  private final Counter produced;
  private final ArrayDeque<Written> undrained = new ArrayDeque<>();
  private final byte[] buffer = new byte[SharedItems.PAYLOAD_BYTES];
  private long written;
  private long counted;

  SharedItemsOut(int attempt, GeneratorWaiter waiter, Resender resender, Counter produced) {
    this.attempt = attempt;
    this.waiter = waiter;
    this.resender = resender;
    this.produced = produced;
  }

  /**
   * Writes item {@code index} into the stream's ring if it can go there: the owner offered a ring,
   * the value is ready, inline and small, has no nested refs, and a consumer is looking. False if
   * it must be reported instead.
   */
  boolean offer(long index, CompletableFuture<ReturnObject.Builder> value) {
    SharedItems.Writer ring = waiter.sharedItems();
    if (ring == null || !value.isDone() || value.isCompletedExceptionally()) {
      return false;
    }
    ReturnObject.Builder item = value.join();
    if (item.getNestedRefsCount() > 0 || !item.getValue().hasData()) {
      return false;
    }
    ReturnObject built = item.build();
    int len = built.getSerializedSize();
    if (len > SharedItems.PAYLOAD_BYTES) {
      return false;
    }
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(buffer);
      built.writeTo(out);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // UNSEEN: no consumer may look at the ring any more, so the item is reported as well.
    if (ring.offer(index, attempt, buffer, len) != SharedItems.Writer.Offer.WRITTEN) {
      return false;
    }
    if (undrained.isEmpty()) {
      waiter.onWaitWithoutReports(this::resend);
    }
    long drained = ring.drained();
    while (!undrained.isEmpty() && undrained.peekFirst().position() < drained) {
      undrained.pollFirst();
    }
    undrained.add(new Written(ring.lastPosition(), index, item));
    waiter.onWrittenShared();
    if (++written - counted >= COUNT_EVERY) {
      countProduced();
    }
    return true;
  }

  /**
   * Reports again the items written into the ring that the owner has not drained, and the last one
   * written (whose reply the owner holds while the window is full).
   */
  private void resend() {
    if (!reportUndrained(true)) {
      waiter.onOwnerGone();
    }
  }

  /**
   * Reports again the items written into the ring that the owner has not drained, and the last one
   * if {@code andLast}; false if the owner is gone.
   */
  private boolean reportUndrained(boolean andLast) {
    SharedItems.Writer ring = waiter.sharedItems();
    long drained = ring == null ? Long.MAX_VALUE : ring.drained();
    Written last = undrained.peekLast();
    for (Written w : undrained) {
      if ((w.position() >= drained || (andLast && w == last))
          && !resender.resend(w.index(), w.value())) {
        return false;
      }
    }
    return true;
  }

  /**
   * Before the final reply (DESIGN "Shared items": the end follows the items): waits briefly for
   * the owner to drain what was written into the ring, then reports again what it has not, so a
   * ring stopped at an entry that is never committed cannot lose the stream's last items. False if
   * the owner is gone.
   */
  boolean flush() {
    SharedItems.Writer ring = waiter.sharedItems();
    Written last = undrained.peekLast();
    if (ring == null || last == null) {
      return true;
    }
    SharedCredit.spinUntil(() -> ring.drained() > last.position(), SharedCredit.SPIN_NANOS);
    if (!reportUndrained(false)) {
      return false;
    }
    undrained.clear();
    return true;
  }

  /** Adds the items written since the last count to the produced-items metric. */
  void countProduced() {
    if (written > counted) {
      produced.increment(written - counted);
      counted = written;
    }
  }
}
