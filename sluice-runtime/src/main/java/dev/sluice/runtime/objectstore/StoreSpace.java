package dev.sluice.runtime.objectstore;

import dev.sluice.ObjectId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The store's space, as {@link SharedMemoryStore} places objects in it: which bytes of the mapping
 * are free ({@link RangeAllocator}), in use by objects, or reserved for writers ({@link
 * WriterExtents}), and how room is found for an object. {@link SharedMemoryStore} keeps the objects
 * and their lifecycle; this class decides where their bytes go (as Netty's arena picks the chunk
 * and the chunk the run).
 *
 * <p>Finding room ({@link #place}), in order: first fit, lowest offset first; the unclaimed rest of
 * every writer extent taken back (free space, only reserved); a wait while the {@link Prefaulter}
 * holds a chunk (free space, back within milliseconds); unpinned secondary copies dropped; garbage
 * collection asked for in the node's processes, with a retry ({@link GcRequests}); and only then
 * sealed objects spilled, least recently used first ({@link Spiller}). A pin of a spilled object
 * restores it ({@link #restore}). Taking pages past the warm region hints a collection, so that
 * freed low ranges are reused instead of warming new ones.
 *
 * <p>Threads: not thread-safe; every method runs under the store's lock, the monitor of {@code
 * lock}, which it also waits on (for a chunk the prefaulter holds) and notifies (a range was taken:
 * the prefaulter may warm further). The prefaulter's own thread takes the same lock. Spill and
 * restore I/O run under it.
 */
final class StoreSpace {
  /** {@link #place}'s answer when garbage collection was asked for: retry the create shortly. */
  static final long RETRY = -2;

  private final Object lock;
  private final long capacity;
  private final Map<ObjectId, StoredObject> objects;
  private final RangeAllocator free;
  private final Prefaulter prefaulter;
  private final GcRequests gcRequests;
  private final Spiller spiller;
  private final WriterExtents extents;

  /** Bytes of objects in memory (aligned), not counting what writers claimed and did not seal. */
  private long used;

  private boolean stopped;

  /** How the spiller makes room here. */
  private final Spiller.Room room =
      new Spiller.Room() {
        @Override
        public long fit(long need) {
          return take(need);
        }

        @Override
        public void drop(ObjectId id, StoredObject e) {
          StoreSpace.this.drop(id, e);
        }

        @Override
        public void free(long offset, long size) {
          StoreSpace.this.free(offset, size);
        }

        @Override
        public long used() {
          return used;
        }
      };

  /**
   * The space of {@code file}, guarded by {@code lock}, for the objects of {@code objects} (the
   * store's table, in access order); spilled objects go to {@code spillDir}, and {@code requestGc}
   * asks for garbage collection.
   */
  StoreSpace(
      Object lock,
      StoreFile file,
      Map<ObjectId, StoredObject> objects,
      Path spillDir,
      SharedMemoryStore.GarbageCollection requestGc) {
    this.lock = lock;
    this.capacity = file.capacity();
    this.objects = objects;
    this.free = new RangeAllocator(capacity);
    this.prefaulter = new Prefaulter(lock, free, file.segment(), capacity);
    this.gcRequests = new GcRequests(requestGc);
    this.spiller = new Spiller(spillDir, file.segment());
    this.extents =
        new WriterExtents(
            file.extentTable(),
            new WriterExtents.Ranges() {
              @Override
              public long take(long size) {
                long offset = free.take(size);
                if (offset >= 0) {
                  onTaken(offset + size);
                }
                return offset;
              }

              @Override
              public void give(long offset, long size) {
                giveBack(offset, size);
              }
            });
  }

  /** Starts warming pages. */
  void start() {
    prefaulter.start();
  }

  /** The writers' extents in this space. */
  WriterExtents extents() {
    return extents;
  }

  /**
   * Room for {@code size} bytes of object {@code id}, by the steps in the class comment: its
   * offset; {@link #RETRY} if garbage collection was asked for first; -1 if nothing can make room.
   */
  long place(ObjectId id, long size) {
    long need = RangeAllocator.aligned(size);
    long offset = take(need);
    while (offset < 0 && prefaulter.busy() && !stopped) {
      // The prefaulter holds a chunk for a few milliseconds; it is free space, not usage.
      try {
        lock.wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      offset = take(need);
    }
    if (offset < 0) {
      offset = spiller.dropSecondariesUntilFits(objects, need, room);
    }
    if (offset < 0) {
      if (gcRequests.retryAfterCollection()) {
        return RETRY;
      }
      offset = takeSpilling(size, null);
    }
    return offset;
  }

  /** Why {@link #place} found no room for object {@code id} of {@code size} bytes. */
  String fullMessage(ObjectId id, long size) {
    return "the node's object store is full: cannot fit object "
        + id
        + " of "
        + size
        + " bytes (capacity "
        + capacity
        + ", used "
        + used
        + " by "
        + objects.size()
        + " objects that are all in use, "
        + extents.claimedUnsettled()
        + " being written, largest free range "
        + free.largestFree()
        + ", spilled "
        + spiller.spilledBytes()
        + ")";
  }

  /**
   * Takes {@code need} bytes for an object, lowest offset first; when no free range fits, the
   * unclaimed rest of every writer extent is taken back first (it is free space, only reserved). -1
   * if nothing fits even then.
   */
  long take(long need) {
    long offset = free.take(need);
    if (offset < 0 && extents.revokeAll() > 0) {
      offset = free.take(need);
    }
    if (offset >= 0) {
      used += need;
      onTaken(offset + need);
    }
    return offset;
  }

  /** First fit; spills least recently used unpinned objects (never {@code keep}) if needed. */
  private long takeSpilling(long size, ObjectId keep) {
    long need = RangeAllocator.aligned(size);
    long offset = take(need);
    if (offset >= 0) {
      return offset;
    }
    return spiller.spillUntilFits(objects, keep, need, size, room);
  }

  /** Tracks the high-water mark; hints a collection when cold pages are being taken. */
  private void onTaken(long end) {
    if (prefaulter.allocated(end)) {
      gcRequests.coldPagesTaken();
    }
    lock.notifyAll();
  }

  /** {@code len} bytes a writer claimed in its extent are an object's now: in use. */
  void claimedBySeal(long len) {
    used += len;
  }

  /** Frees the range of an object. */
  void free(long offset, long size) {
    used -= RangeAllocator.aligned(size);
    giveBack(offset, size);
  }

  /** Puts a range that holds no object back on the free list, merged with free neighbours. */
  void giveBack(long offset, long size) {
    free.give(offset, RangeAllocator.aligned(size));
  }

  /** Removes {@code id} from the store: its range and its spill file are freed. */
  void drop(ObjectId id, StoredObject e) {
    objects.remove(id);
    if (e.offset >= 0) {
      free(e.offset, e.size);
    }
    spiller.deleteFile(e);
  }

  /**
   * Brings the spilled object {@code id} back into memory, spilling others if needed.
   *
   * @throws IllegalStateException if no room can be made for it
   * @throws UncheckedIOException if its spill file cannot be read back
   */
  void restore(ObjectId id, StoredObject e) {
    long offset = takeSpilling(e.size, id);
    if (offset < 0) {
      throw new IllegalStateException(
          "the node's object store is full: cannot restore spilled "
              + "object "
              + id
              + " of "
              + e.size
              + " bytes (capacity "
              + capacity
              + ", used "
              + used
              + ")");
    }
    try {
      spiller.readBack(e, offset);
    } catch (IOException ex) {
      free(offset, e.size);
      throw new UncheckedIOException(
          "object " + id + " spilled to " + e.spilledTo + " cannot be restored: " + ex.getMessage(),
          ex);
    }
    spiller.deleteFile(e);
    e.offset = offset;
  }

  /** Bytes from the start of the pool that have been written at least once (warm pages). */
  long warmBytes() {
    return prefaulter.warmBytes();
  }

  /** Current usage. */
  SharedMemoryStore.Usage usage() {
    return new SharedMemoryStore.Usage(
        capacity,
        used + extents.claimedUnsettled(),
        objects.size(),
        spiller.spilledBytes(),
        spiller.spilledObjects());
  }

  /** Stops the prefaulter and any wait for it (the store is closing). */
  void stop() {
    stopped = true;
    prefaulter.stop();
    lock.notifyAll();
  }

  /** Waits for the prefaulter's thread to end; without the lock. */
  void join() {
    prefaulter.join();
  }

  /** Removes every spill file and ends the extents; the objects are forgotten. */
  void close() {
    for (StoredObject e : objects.values()) {
      spiller.deleteFile(e);
    }
    objects.clear();
    extents.close();
  }
}
