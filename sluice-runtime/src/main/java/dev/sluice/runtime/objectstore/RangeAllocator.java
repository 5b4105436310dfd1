package dev.sluice.runtime.objectstore;

import java.util.Map;
import java.util.TreeMap;

/**
 * The free ranges of the store's file: a free list ordered by offset, first fit (the lowest range
 * that is large enough), coalesced on free, so freed low ranges are reused first. Lengths are in
 * bytes, used as given; the store rounds object sizes to {@link #ALIGN} before asking.
 *
 * <p>Pure bookkeeping: it never touches the mapping. Threads: not thread-safe; guarded by the
 * store's lock ({@link SharedMemoryStore}'s monitor).
 */
final class RangeAllocator {
  /** The unit of allocation: every range the store hands out starts and ends on it. */
  static final long ALIGN = 64;

  /** Free ranges: offset to length, never adjacent (coalesced), never overlapping. */
  private final TreeMap<Long, Long> free = new TreeMap<>();

  /** All of {@code [0, capacity)} free. */
  RangeAllocator(long capacity) {
    free.put(0L, capacity);
  }

  /** {@code size} rounded up to {@link #ALIGN}. */
  static long aligned(long size) {
    return (size + ALIGN - 1) / ALIGN * ALIGN;
  }

  /** Takes {@code need} bytes off the free list, lowest offset first; -1 if no range fits. */
  long take(long need) {
    for (Map.Entry<Long, Long> range : free.entrySet()) {
      // Read before removing: a removed TreeMap entry may take its successor's contents.
      long offset = range.getKey();
      long len = range.getValue();
      if (len >= need) {
        free.remove(offset);
        if (len > need) {
          free.put(offset + need, len - need);
        }
        return offset;
      }
    }
    return -1;
  }

  /**
   * Takes exactly {@code [start, start + len)} off the free list if one free range holds all of it;
   * false (nothing taken) otherwise.
   */
  boolean takeExactly(long start, long len) {
    Map.Entry<Long, Long> range = free.floorEntry(start);
    if (range == null || range.getKey() + range.getValue() < start + len) {
      return false;
    }
    long rStart = range.getKey();
    long rEnd = rStart + range.getValue();
    free.remove(rStart);
    if (start > rStart) {
      free.put(rStart, start - rStart);
    }
    if (rEnd > start + len) {
      free.put(start + len, rEnd - start - len);
    }
    return true;
  }

  /** Puts {@code [offset, offset + len)} back on the free list, merged with free neighbours. */
  void give(long offset, long len) {
    long end = offset + len;
    long start = offset;
    Map.Entry<Long, Long> before = free.floorEntry(offset);
    if (before != null && before.getKey() + before.getValue() == offset) {
      start = before.getKey();
      len += before.getValue();
      free.remove(before.getKey());
    }
    Long afterLen = free.remove(end);
    if (afterLen != null) {
      len += afterLen;
    }
    free.put(start, len);
  }

  /** The longest free range, in bytes (0 if none). */
  long largestFree() {
    long max = 0;
    for (long len : free.values()) {
      max = Math.max(max, len);
    }
    return max;
  }

  /** A copy of the free list, offset to length in offset order (for tests and diagnostics). */
  Map<Long, Long> freeRanges() {
    return new TreeMap<>(free);
  }
}
