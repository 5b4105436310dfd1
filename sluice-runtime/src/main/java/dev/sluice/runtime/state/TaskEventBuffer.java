package dev.sluice.runtime.state;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A process's bounded buffer of task events waiting to be sent (Ray's task event buffer): at most
 * {@code capacity} events are held; an event that finds the buffer full is dropped and counted, and
 * the count travels with the next batch so that the control service can say its view is partial.
 *
 * <p>Thread-safe: recording threads add under the buffer's monitor; the reporter drains.
 *
 * @param <E> what is recorded: {@link TaskEvents} keeps small records and builds the messages when
 *     it sends them
 */
final class TaskEventBuffer<E> {
  /** What one drain took: events in the order recorded, and drops since the previous drain. */
  record Drained<E>(List<E> events, long dropped) {}

  private final int capacity;
  private final ArrayDeque<E> events = new ArrayDeque<>();
  private long dropped;

  TaskEventBuffer(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
    }
    this.capacity = capacity;
  }

  /**
   * Adds {@code event}: the events held then, or -1 (counted as dropped) when the buffer is full.
   */
  synchronized int add(E event) {
    if (events.size() >= capacity) {
      dropped++;
      return -1;
    }
    events.add(event);
    return events.size();
  }

  /** Counts {@code n} events lost elsewhere (e.g. a batch that could not be sent). */
  synchronized void countDropped(long n) {
    dropped += n;
  }

  /** Events held now. */
  synchronized int size() {
    return events.size();
  }

  /** Takes up to {@code max} of the oldest events, and the drops counted since the last drain. */
  synchronized Drained<E> drain(int max) {
    int n = Math.min(max, events.size());
    List<E> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(events.poll());
    }
    long d = dropped;
    dropped = 0;
    return new Drained<>(out, d);
  }
}
