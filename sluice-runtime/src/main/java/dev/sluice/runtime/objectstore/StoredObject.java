package dev.sluice.runtime.objectstore;

import java.nio.file.Path;

/**
 * The store's record of one object: its size, where it is (a range of the mapping, or a spill file,
 * or both while it is restored) and its state (sealed, pins, a delete waiting for the last
 * release). A secondary copy (pulled from another node) is dropped rather than spilled.
 *
 * <p>Threads: not thread-safe; guarded by the store's lock ({@link SharedMemoryStore}'s monitor).
 */
final class StoredObject {
  final long size;
  final boolean secondary;

  /** Start of its range in the mapping; -1 while it is spilled (or not placed yet). */
  long offset = -1;

  boolean sealed;
  int pins;
  boolean deletePending;

  /** Its spill file, while it has one. */
  Path spilledTo;

  StoredObject(long size, boolean secondary) {
    this.size = size;
    this.secondary = secondary;
  }
}
