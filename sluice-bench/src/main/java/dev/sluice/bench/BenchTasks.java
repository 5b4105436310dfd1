package dev.sluice.bench;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The task functions the Sluice measurements run. They live in a class of their own so that a
 * worker JVM loading them loads nothing else of the harness.
 */
public final class BenchTasks {
  private BenchTasks() {}

  /** Returns its argument: a task that costs nothing, so only the runtime's overhead is timed. */
  public static Integer noop(Integer i) {
    return i;
  }

  /**
   * A streaming generator of the small ints {@code 0 .. n-1}, each available at once: the
   * producer costs nothing, so a stream's timing is the runtime's own. {@code range(0)} ends
   * without an item.
   */
  public static Iterator<Integer> range(Integer n) {
    int count = n;
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < count;
      }

      @Override
      public Integer next() {
        if (next >= count) {
          throw new NoSuchElementException();
        }
        return next++;
      }
    };
  }
}
