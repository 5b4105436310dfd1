package dev.sluice.runtime.objectmanager;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayDeque;

/**
 * Bounds the bytes of the pulls a node has in progress, so that many concurrent fetches cannot fill
 * the store (and the network) with half-written objects at once. Admission is first come, first
 * served, so a large pull is not starved by a stream of small ones; a pull larger than the whole
 * bound is admitted when nothing else is in flight. Thread-safe; {@link #acquire} blocks.
 */
final class InFlightBudget {
  private final long limit;

  @GuardedBy("this")
  private final ArrayDeque<Object> queue = new ArrayDeque<>();

  @GuardedBy("this")
  private long inFlight;

  @GuardedBy("this")
  private long peak;

  InFlightBudget(long limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("in-flight pull bound must be positive: " + limit);
    }
    this.limit = limit;
  }

  /** Waits until {@code bytes} fit (or nothing else is in flight), in arrival order. */
  synchronized void acquire(long bytes) throws InterruptedException {
    Object ticket = new Object();
    queue.add(ticket);
    try {
      while (queue.peek() != ticket || !fits(bytes)) {
        wait();
      }
    } catch (InterruptedException e) {
      queue.remove(ticket);
      notifyAll();
      throw e;
    }
    queue.poll();
    inFlight += bytes;
    peak = Math.max(peak, inFlight);
    notifyAll();
  }

  /** Returns what {@link #acquire} took. */
  synchronized void release(long bytes) {
    inFlight -= bytes;
    notifyAll();
  }

  synchronized long inFlight() {
    return inFlight;
  }

  synchronized long peak() {
    return peak;
  }

  long limit() {
    return limit;
  }

  @GuardedBy("this")
  private boolean fits(long bytes) {
    return inFlight == 0 || inFlight + bytes <= limit;
  }
}
