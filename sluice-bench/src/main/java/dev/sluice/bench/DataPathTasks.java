package dev.sluice.bench;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Task functions of the data-path group ({@link PeerGroups}), in a class of their own so that a
 * worker loading them loads nothing else of the harness.
 */
public final class DataPathTasks {
  private DataPathTasks() {}

  /**
   * A streaming generator of {@code n} items of {@code size} bytes, each a fresh array the producer
   * allocates and fills (item {@code i} holds the byte {@code i} everywhere), as a user's producer
   * would: the time includes the worker's allocation of large arrays and the first touch of their
   * pages.
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
        Arrays.fill(item, (byte) next++);
        return item;
      }
    };
  }
}
