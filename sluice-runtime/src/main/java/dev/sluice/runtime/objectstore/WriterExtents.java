package dev.sluice.runtime.objectstore;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The node manager's books on writer extents (see {@link ExtentTable}): which client holds which
 * slot and extent, and which claimed ranges of each extent are settled (sealed as objects, or given
 * back unwritten). A range a client claimed is invisible to the node manager until its seal
 * arrives, so an extent that has ended (replaced, revoked under pressure) is kept until all it
 * handed out is settled; when a client goes away, what it claimed and never settled is freed.
 *
 * <p>Threads: not thread-safe; the owning {@link SharedMemoryStore} calls it under its monitor.
 */
final class WriterExtents implements AutoCloseable {
  /** The store's free ranges, as the extents take and give them back. */
  interface Ranges {
    /** Takes {@code size} bytes off the free list (first fit): their offset, or -1. */
    long take(long size);

    /** Puts {@code [offset, offset + size)} back on the free list. */
    void give(long offset, long size);
  }

  /** A client's slots (at most two; -1: none) and the one holding its newest extent. */
  private static final class Writer {
    final int[] slots = {-1, -1};
    int newest = -1;
  }

  private static final class Extent {
    final String client;
    final int slot;
    final long generation;
    final long start;
    final long end;

    /** Where claims stopped, once the extent has ended; -1 while it is open. */
    long claimedEnd = -1;

    long settledBytes;

    /** Settled ranges as {offset, size}: what a departed client's extent must not free. */
    final List<long[]> settled = new ArrayList<>();

    Extent(String client, int slot, long generation, long start, long end) {
      this.client = client;
      this.slot = slot;
      this.generation = generation;
      this.start = start;
      this.end = end;
    }
  }

  private final ExtentTable table;
  private final Ranges ranges;
  private final Map<String, Writer> writers = new HashMap<>();
  private final BitSet slotsInUse = new BitSet(ExtentTable.SLOTS);
  private final Extent[] open = new Extent[ExtentTable.SLOTS];

  /** Ended extents with claimed ranges not yet settled. */
  private final List<Extent> ended = new ArrayList<>();

  private long generations;

  WriterExtents(ExtentTable table, Ranges ranges) {
    this.table = table;
    this.ranges = ranges;
  }

  /** Largest extent granted, as a fraction of capacity: extents never hold much of the store. */
  private static final int MAX_EXTENT_FRACTION = 8;

  /** Smallest extent granted when a client asks for less: room for several objects. */
  static final long MIN_EXTENT = 16L << 20;

  /** Extents hold this many objects of the size asked for, within the bounds above. */
  private static final int OBJECTS_PER_EXTENT = 4;

  /**
   * Grants {@code client} an extent for objects of {@code minSize} bytes in a store of {@code
   * capacity}: room for a few of them, at least {@link #MIN_EXTENT} and at most an eighth of the
   * store (see {@link #grant}); null if one object is larger than that, or no range fits.
   */
  ExtentGrant grantFor(String client, long minSize, long capacity) {
    long need = RangeAllocator.aligned(minSize);
    long max = capacity / MAX_EXTENT_FRACTION / RangeAllocator.ALIGN * RangeAllocator.ALIGN;
    if (minSize <= 0 || need > max) {
      return null;
    }
    long want = Math.min(max, Math.max(MIN_EXTENT, need * OBJECTS_PER_EXTENT));
    return grant(client, need, Math.max(need, want));
  }

  /**
   * Grants {@code client} a new extent of {@code want} bytes, or of {@code need} if that much is
   * not free in one range; null if even {@code need} is not free or every slot is taken. A client
   * has at most two open extents, the one it writes in and the next (asked for ahead, so that
   * moving on costs no round trip): a grant ends all of the client's extents but its newest.
   */
  ExtentGrant grant(String client, long need, long want) {
    Writer w = writers.get(client);
    int slot = -1;
    if (w != null) {
      for (int s : w.slots) {
        if (s >= 0 && s != w.newest && open[s] != null) {
          end(open[s]);
        }
        if (s >= 0 && slot < 0 && open[s] == null) {
          slot = s;
        }
      }
    }
    boolean newSlot = slot < 0;
    if (newSlot) {
      slot = slotsInUse.nextClearBit(0);
      if (slot >= ExtentTable.SLOTS) {
        return null;
      }
    }
    long size = want;
    long offset = ranges.take(size);
    if (offset < 0 && want > need) {
      size = need;
      offset = ranges.take(size);
    }
    if (offset < 0) {
      return null;
    }
    if (newSlot) {
      if (w == null) {
        w = new Writer();
        writers.put(client, w);
      }
      slotsInUse.set(slot);
      w.slots[w.slots[0] < 0 ? 0 : 1] = slot;
    }
    w.newest = slot;
    Extent e = new Extent(client, slot, ++generations, offset, offset + size);
    open[slot] = e;
    table.open(slot, e.generation, e.start, e.end);
    return new ExtentGrant(slot, e.generation, offset, size);
  }

  /**
   * Settles {@code [offset, offset + size)} of {@code client}'s extent ({@code slot}, {@code
   * generation}); false if there is no such extent (it was freed when the client was declared gone)
   * or the range was not claimed from it.
   */
  boolean settle(String client, int slot, long generation, long offset, long size) {
    Extent e = find(slot, generation);
    if (e == null || !e.client.equals(client)) {
      return false;
    }
    long claimedEnd = e.claimedEnd >= 0 ? e.claimedEnd : table.cursor(slot);
    if (offset < e.start || offset + size > claimedEnd) {
      return false;
    }
    e.settled.add(new long[] {offset, size});
    e.settledBytes += size;
    if (e.claimedEnd >= 0 && e.settledBytes == e.claimedEnd - e.start) {
      ended.remove(e);
    }
    return true;
  }

  private Extent find(int slot, long generation) {
    if (slot >= 0
        && slot < ExtentTable.SLOTS
        && open[slot] != null
        && open[slot].generation == generation) {
      return open[slot];
    }
    for (Extent e : ended) {
      if (e.slot == slot && e.generation == generation) {
        return e;
      }
    }
    return null;
  }

  /**
   * Ends every open extent, freeing what was not claimed; returns the bytes freed. Their clients
   * ask for new extents (or create objects one by one) on their next write.
   */
  long revokeAll() {
    long freed = 0;
    for (Extent e : open) {
      if (e != null) {
        freed += end(e);
      }
    }
    return freed;
  }

  /** Ends {@code e}: frees its unclaimed rest; returns the bytes freed. */
  private long end(Extent e) {
    long claimedEnd = table.revoke(e.slot);
    e.claimedEnd = claimedEnd;
    open[e.slot] = null;
    if (claimedEnd < e.end) {
      ranges.give(claimedEnd, e.end - claimedEnd);
    }
    if (e.settledBytes < claimedEnd - e.start) {
      ended.add(e);
    }
    return e.end - claimedEnd;
  }

  /**
   * {@code client} is gone (its process exited, or it closed its store client): ends its extents
   * and frees every range it claimed and never settled. Seals it sent that arrive later are
   * refused.
   */
  void release(String client) {
    Writer w = writers.remove(client);
    if (w == null) {
      return;
    }
    for (int s : w.slots) {
      if (s >= 0) {
        if (open[s] != null) {
          end(open[s]);
        }
        slotsInUse.clear(s);
      }
    }
    for (Iterator<Extent> it = ended.iterator(); it.hasNext(); ) {
      Extent e = it.next();
      if (e.client.equals(client)) {
        it.remove();
        freeUnsettled(e);
      }
    }
  }

  private void freeUnsettled(Extent e) {
    e.settled.sort(Comparator.comparingLong(r -> r[0]));
    long at = e.start;
    for (long[] r : e.settled) {
      if (r[0] > at) {
        ranges.give(at, r[0] - at);
      }
      at = Math.max(at, r[0] + r[1]);
    }
    if (at < e.claimedEnd) {
      ranges.give(at, e.claimedEnd - at);
    }
  }

  /** Bytes claimed from extents and not settled yet: objects being written. */
  long claimedUnsettled() {
    long bytes = 0;
    for (Extent e : open) {
      if (e != null) {
        bytes += table.cursor(e.slot) - e.start - e.settledBytes;
      }
    }
    for (Extent e : ended) {
      bytes += e.claimedEnd - e.start - e.settledBytes;
    }
    return bytes;
  }

  /** Bytes held in open extents and not claimed yet: free, but reserved for their writers. */
  long reservedUnclaimed() {
    long bytes = 0;
    for (Extent e : open) {
      if (e != null) {
        bytes += e.end - Math.min(e.end, table.cursor(e.slot));
      }
    }
    return bytes;
  }

  @Override
  public void close() {
    table.close();
  }
}
