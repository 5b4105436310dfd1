package dev.sluice.bench;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The task functions the Sluice measurements run. They live in a class of their own so that a
 * worker JVM loading them loads nothing else of the harness.
 */
public final class BenchTasks {
  private BenchTasks() {}

  /** One chunk per worker, made once: a stream of it costs the producer nothing but Sluice. */
  private static volatile byte[] chunk;

  /**
   * A streaming generator yielding the same {@code size}-byte array {@code n} times (made on the
   * first call in this worker and filled with a pattern), so a large-item stream times the
   * runtime's data path rather than the producer's allocation.
   */
  public static Iterator<byte[]> chunks(Integer n, Integer size) {
    byte[] c = chunk;
    if (c == null || c.length != size) {
      c = new byte[size];
      for (int i = 0; i < c.length; i += 4096) {
        c[i] = (byte) (i >>> 12);
      }
      chunk = c;
    }
    byte[] item = c;
    return java.util.stream.IntStream.range(0, n).mapToObj(i -> item).iterator();
  }

  /**
   * A streaming generator yielding {@code n} items of {@code size} bytes, each a fresh array it
   * allocates and fills with a pattern (every byte written), as a producer of real data does: the
   * time includes allocating each array in the worker's heap and the garbage it leaves.
   */
  public static Iterator<byte[]> freshChunks(Integer n, Integer size) {
    int count = n;
    int bytes = size;
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < count;
      }

      @Override
      public byte[] next() {
        if (next >= count) {
          throw new NoSuchElementException();
        }
        byte[] item = new byte[bytes];
        byte k = (byte) next++;
        for (int i = 0; i < item.length; i++) {
          item[i] = (byte) (i + k);
        }
        return item;
      }
    };
  }

  /**
   * Sleeps {@code millis} and returns the hex id of the node it ran on: a task whose time is fixed
   * and costs no CPU, so throughput depends only on how many run at once.
   */
  public static String sleepOnNode(Integer millis) throws InterruptedException {
    Thread.sleep(millis);
    return dev.sluice.Sluice.runtimeContext().nodeId().hex();
  }

  /** Returns its argument: a task that costs nothing, so only the runtime's overhead is timed. */
  public static Integer noop(Integer i) {
    return i;
  }

  /**
   * A streaming generator of the small ints {@code 0 .. n-1}, each available at once: the producer
   * costs nothing, so a stream's timing is the runtime's own. {@code range(0)} ends without an
   * item.
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
