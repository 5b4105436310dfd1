package dev.sluice.runtime.dashboard;

import java.util.ArrayList;
import java.util.List;

/**
 * The cluster's object store usage over time: a ring of the last {@link #CAPACITY} samples (one a
 * second: ten minutes), summed over the live nodes. Not thread-safe: the dashboard's sampler thread
 * owns it and publishes copies.
 */
final class StoreHistory {
  static final int CAPACITY = 600;

  /**
   * One sample.
   *
   * @param timeMillis epoch millis
   * @param used bytes in use
   * @param capacity bytes the stores offer
   * @param spilled bytes spilled to disk
   * @param objects objects held
   */
  record Sample(long timeMillis, long used, long capacity, long spilled, long objects) {}

  private final Sample[] ring = new Sample[CAPACITY];
  private int next;
  private int size;

  void add(Sample s) {
    ring[next] = s;
    next = (next + 1) % CAPACITY;
    size = Math.min(size + 1, CAPACITY);
  }

  /** The samples held, oldest first. */
  List<Sample> samples() {
    List<Sample> out = new ArrayList<>(size);
    int start = (next - size + CAPACITY) % CAPACITY;
    for (int i = 0; i < size; i++) {
      out.add(ring[(start + i) % CAPACITY]);
    }
    return out;
  }
}
