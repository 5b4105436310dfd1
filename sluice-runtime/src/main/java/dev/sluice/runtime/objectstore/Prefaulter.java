package dev.sluice.runtime.objectstore;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.lang.foreign.MemorySegment;

/**
 * Keeps the pool's pages warm ahead of use. A page of a memory file system costs far more on its
 * first write (the kernel allocates and zeroes it: about 1 GB/s here, against 9 GB/s for a page
 * written before), so a background thread writes zeros into free, cold ranges until {@link #AHEAD}
 * bytes past the highest range ever allocated are warm, and objects land on warm pages. A chunk is
 * reserved (taken off the free list) while it is written, so no object can be placed in it
 * meanwhile; a chunk that is partly in use is skipped, since its producer has written those pages.
 *
 * <p>Threads: its own daemon thread; every field is guarded by the store's lock (the monitor of
 * {@code lock}, the {@link SharedMemoryStore}; the store's calls re-enter it), which it waits on
 * and notifies: the store notifies it when a range is allocated or the store closes, and it
 * notifies the store when a reserved chunk is free again. The zeros are written without the lock.
 */
final class Prefaulter {
  /** Warm region kept ahead of the highest range in use. */
  static final long AHEAD = 256L << 20;

  private static final long CHUNK = 16L << 20;

  private final Object lock;

  @GuardedBy("lock")
  private final RangeAllocator free;

  private final MemorySegment segment;
  private final long capacity;
  private final Thread thread;

  /** Bytes from 0 that have been written once (warm pages). */
  @GuardedBy("lock")
  private long warmUpTo;

  /** Highest end of a range ever allocated. */
  @GuardedBy("lock")
  private long highWater;

  /** True while a reserved chunk is off the free list. */
  @GuardedBy("lock")
  private boolean busy;

  @GuardedBy("lock")
  private boolean stopped;

  Prefaulter(Object lock, RangeAllocator free, MemorySegment segment, long capacity) {
    this.lock = lock;
    this.free = free;
    this.segment = segment;
    this.capacity = capacity;
    this.thread =
        Thread.ofPlatform()
            .daemon()
            .name("sluice-store-prefault")
            .priority(Thread.MIN_PRIORITY)
            .unstarted(this::loop);
  }

  void start() {
    thread.start();
  }

  /**
   * A range ending at {@code end} was allocated: raises the high-water mark (the caller notifies
   * the lock). True if it reaches past the warm pages.
   */
  boolean allocated(long end) {
    synchronized (lock) {
      highWater = Math.max(highWater, end);
      return end > warmUpTo;
    }
  }

  /** Bytes from the start of the pool that have been written at least once. */
  long warmBytes() {
    synchronized (lock) {
      return warmUpTo;
    }
  }

  /** True while a chunk is reserved: it is free space, back within milliseconds. */
  boolean busy() {
    synchronized (lock) {
      return busy;
    }
  }

  /** Stops the thread at its next look (the caller notifies the lock). */
  void stop() {
    synchronized (lock) {
      stopped = true;
    }
  }

  /** Interrupts the thread and waits for it to end (without the lock). */
  void join() {
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void loop() {
    try {
      while (true) {
        long start;
        long len;
        synchronized (lock) {
          while (!stopped && warmUpTo >= Math.min(capacity, highWater + AHEAD)) {
            lock.wait();
          }
          if (stopped) {
            return;
          }
          start = warmUpTo;
          len = Math.min(CHUNK, capacity - start);
          if (!free.takeExactly(start, len)) {
            warmUpTo = start + len;
            continue;
          }
          busy = true;
        }
        segment.asSlice(start, len).fill((byte) 0);
        synchronized (lock) {
          if (stopped) {
            return;
          }
          free.give(start, len);
          busy = false;
          lock.notifyAll();
          warmUpTo = start + len;
        }
      }
    } catch (InterruptedException e) {
      // closing
    } catch (IllegalStateException e) {
      // the mapping was closed under us
    }
  }
}
