package dev.sluice.runtime.owner;

import dev.sluice.runtime.rpc.proto.ReturnObject;
import java.util.function.LongPredicate;

/**
 * The reported-but-unconsumed items of one {@link ObjectRefStream}, by yield index: a ring of slots
 * starting at the consumer's cursor, so the common in-order case costs an array store per item and
 * no boxing. Out-of-order reports leave empty slots until the gap fills.
 *
 * <p>Not thread-safe: guarded by the stream's lock.
 */
final class UnconsumedItems {
  private ReturnObject[] slots = new ReturnObject[8];
  private int head;
  private long base;
  private int count;

  /** Index of the first slot: the consumer's cursor. */
  long base() {
    return base;
  }

  /** Number of items held. */
  int size() {
    return count;
  }

  /** True if {@code index} is held. */
  boolean contains(long index) {
    return get(index) != null;
  }

  /** The item at {@code index}, or null. */
  ReturnObject get(long index) {
    long offset = index - base;
    if (offset < 0 || offset >= slots.length) {
      return null;
    }
    return slots[(int) ((head + offset) & (slots.length - 1))];
  }

  /** Holds {@code item} at {@code index} (at or after the cursor); false if already held. */
  boolean add(long index, ReturnObject item) {
    long offset = index - base;
    if (offset < 0) {
      throw new IllegalArgumentException("index " + index + " is before the cursor " + base);
    }
    if (offset >= slots.length) {
      grow(offset + 1);
    }
    int slot = (int) ((head + offset) & (slots.length - 1));
    if (slots[slot] != null) {
      return false;
    }
    slots[slot] = item;
    count++;
    return true;
  }

  /** Takes the item at the cursor (null if absent) and advances the cursor. */
  ReturnObject takeFirst() {
    ReturnObject item = slots[head];
    if (item != null) {
      slots[head] = null;
      count--;
    }
    head = (head + 1) & (slots.length - 1);
    base++;
    return item;
  }

  /** Receives a removed item with its index. */
  interface Removed {
    void accept(long index, ReturnObject item);
  }

  /**
   * Removes every item whose index matches {@code drop}, passing each to {@code onRemoved} after it
   * is gone from here.
   */
  void removeIf(LongPredicate drop, Removed onRemoved) {
    if (count == 0) {
      return;
    }
    for (int offset = 0; offset < slots.length; offset++) {
      int slot = (head + offset) & (slots.length - 1);
      ReturnObject item = slots[slot];
      if (item != null && drop.test(base + offset)) {
        slots[slot] = null;
        count--;
        onRemoved.accept(base + offset, item);
      }
    }
  }

  private void grow(long needed) {
    if (needed > Integer.MAX_VALUE / 2) {
      throw new IllegalStateException("a stream cannot hold " + needed + " unconsumed items");
    }
    int size = Integer.highestOneBit((int) needed - 1) << 1;
    ReturnObject[] bigger = new ReturnObject[Math.max(size, slots.length * 2)];
    for (int offset = 0; offset < slots.length; offset++) {
      bigger[offset] = slots[(head + offset) & (slots.length - 1)];
    }
    slots = bigger;
    head = 0;
  }
}
