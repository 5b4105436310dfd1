package dev.sluice.bench;

import dev.sluice.Sluice;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.IntFunction;

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
    return counted(n, i -> item);
  }

  /**
   * A streaming generator of {@code n} items of {@code size} bytes, each a fresh array the producer
   * allocates and fills (item {@code i} holds the byte {@code i} everywhere), as a user's producer
   * would: the time includes the worker's allocation of large arrays, the first touch of their
   * pages and the garbage they leave.
   */
  public static Iterator<byte[]> freshChunks(Integer n, Integer size) {
    int bytes = size;
    return counted(
        n,
        i -> {
          byte[] item = new byte[bytes];
          Arrays.fill(item, (byte) i);
          return item;
        });
  }

  /**
   * Sleeps {@code millis} and returns the hex id of the node it ran on: a task whose time is fixed
   * and costs no CPU, so throughput depends only on how many run at once.
   */
  public static String sleepOnNode(Integer millis) throws InterruptedException {
    Thread.sleep(millis);
    return Sluice.runtimeContext().nodeId().hex();
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
    return counted(n, i -> i);
  }

  /** The items {@code item(0) .. item(count - 1)}, each made when it is asked for. */
  private static <T> Iterator<T> counted(int count, IntFunction<T> item) {
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < count;
      }

      @Override
      public T next() {
        if (next >= count) {
          throw new NoSuchElementException();
        }
        return item.apply(next++);
      }
    };
  }
}
