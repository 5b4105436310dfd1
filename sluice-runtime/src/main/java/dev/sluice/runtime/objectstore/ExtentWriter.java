package dev.sluice.runtime.objectstore;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One process's side of writer extents (see {@link ExtentTable}): the extent it writes in now,
 * claims of room for its objects there with no round trip, the next extent asked for before this
 * one runs out, and a pause in asking after the node refused one (objects are then created one by
 * one). The seals of the objects written are the {@link SharedMemoryClient}'s.
 *
 * <p>Threads: called by any writing thread; {@code lock} serializes this process's claims and
 * extent requests and guards every field. The extent table itself is shared with the node manager
 * through atomic operations only. A claim may wait for the node's answer to an extent request under
 * the lock (up to {@code replyTimeoutSeconds}); nothing else blocks.
 */
final class ExtentWriter implements AutoCloseable {
  /** After the node refused an extent, objects are created one by one for this long. */
  private static final long NO_EXTENT_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  /** How long closing waits for an extent asked for ahead, so that it does not outlive us. */
  private static final long CLOSE_WAIT_SECONDS = 2;

  private final ExtentTable table;
  private final StoreCalls calls;
  private final long replyTimeoutSeconds;
  private final long backoffNanos;
  private final Object lock = new Object();

  /** The current extent's slot (-1: none), generation and end. */
  private int slot = -1;

  private long generation;
  private long end;

  /** The next extent, asked for ahead. */
  private CompletableFuture<ExtentGrant> askedAhead;

  /** Until when no extent is asked for ({@link System#nanoTime}). */
  private long noExtentUntil;

  /**
   * Claims in {@code table} (this process's mapping of the extent table), asking {@code calls} for
   * extents and waiting up to {@code replyTimeoutSeconds} for one asked for ahead.
   */
  ExtentWriter(ExtentTable table, StoreCalls calls, long replyTimeoutSeconds) {
    this(table, calls, replyTimeoutSeconds, NO_EXTENT_BACKOFF_NANOS);
  }

  /** As above, pausing {@code backoffNanos} after a refusal (tests shorten or lengthen it). */
  ExtentWriter(ExtentTable table, StoreCalls calls, long replyTimeoutSeconds, long backoffNanos) {
    this.table = table;
    this.calls = calls;
    this.replyTimeoutSeconds = replyTimeoutSeconds;
    this.backoffNanos = backoffNanos;
  }

  /**
   * Claims room for an object of {@code size} bytes in this process's extent; when it is used up,
   * moves on to the next extent, asked for ahead or, failing that, now. Null when the object is to
   * be created on its own (too large for an extent, or the node has no extent to give).
   */
  ExtentClaim claim(long size) {
    long need = RangeAllocator.aligned(size);
    synchronized (lock) {
      if (slot >= 0) {
        long offset = table.claim(slot, generation, need);
        if (offset >= 0) {
          askAheadLocked(need, offset + need);
          return new ExtentClaim(slot, generation, offset);
        }
      }
      ExtentGrant g = takeAskedAheadLocked(replyTimeoutSeconds);
      if (g == null || g.size() < need) {
        if (System.nanoTime() < noExtentUntil) {
          return null;
        }
        try {
          g = calls.reserveExtent(size).get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return null;
        } catch (ExecutionException e) {
          return null;
        }
        if (g == null) {
          // Short of room (or too large for an extent): create objects one by one for a while.
          slot = -1;
          noExtentUntil = System.nanoTime() + backoffNanos;
          return null;
        }
      }
      slot = g.slot();
      generation = g.generation();
      end = g.offset() + g.size();
      long offset = table.claim(slot, generation, need);
      if (offset < 0) {
        return null;
      }
      askAheadLocked(need, offset + need);
      return new ExtentClaim(slot, generation, offset);
    }
  }

  /**
   * When the current extent has no room left for another object of {@code need} bytes past {@code
   * claimedTo}, asks for the next extent now, so that the writer moves on to it without waiting for
   * a round trip (a producer of large items would otherwise wait once per extent).
   */
  private void askAheadLocked(long need, long claimedTo) {
    if (askedAhead != null || end - claimedTo >= need) {
      return;
    }
    askedAhead = calls.reserveExtent(need);
  }

  /**
   * The extent asked for ahead, waiting up to {@code timeoutSeconds} for it if it is still on its
   * way; null if none, refused, or not answered.
   */
  private ExtentGrant takeAskedAheadLocked(long timeoutSeconds) {
    CompletableFuture<ExtentGrant> reply = askedAhead;
    askedAhead = null;
    if (reply == null) {
      return null;
    }
    try {
      return reply.get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (ExecutionException | TimeoutException e) {
      return null;
    }
  }

  /** Tells the node this process's extents are free, and unmaps the table. */
  @Override
  public void close() {
    synchronized (lock) {
      // An extent asked for ahead and granted after the release below would outlive us.
      takeAskedAheadLocked(CLOSE_WAIT_SECONDS);
    }
    calls.releaseExtents();
    table.close();
  }
}
