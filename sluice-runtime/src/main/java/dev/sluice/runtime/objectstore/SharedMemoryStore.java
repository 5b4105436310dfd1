package dev.sluice.runtime.objectstore;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.sluice.ObjectId;
import dev.sluice.RuntimeStartupException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * A node's shared-memory object store (Ray's plasma), owned by the node manager: one file in {@code
 * /dev/shm} of the configured capacity, mapped once by every process of the node. The store keeps
 * only metadata: which range of the file holds which object. Producers write and readers read
 * through their own mappings ({@link SharedMemoryClient}).
 *
 * <p>Object life: {@link #create} reserves a range, the producer writes it and {@link #seal}s it;
 * readers {@link #pin} it while they read and {@link #release} it after; the owner {@link #delete}s
 * it when its reference count reaches zero (deferred while pinned).
 *
 * <p>Spilling: when a range cannot be found, sealed objects that nobody pins are written to the
 * node's spill directory, least recently used first, until it can; a pin of a spilled object
 * restores it. Only when spilling cannot make room does {@link #create} report the store full.
 *
 * <p>Secondary copies: an object pulled from another node's store ({@code create(id, size, true)})
 * can be pulled again, so it is never spilled: when room is needed it is dropped, and unpinned
 * secondary copies are dropped before the node is asked to collect garbage. Owners delete objects
 * only in their own node's store, so dropping under pressure is also what frees secondary copies on
 * other nodes.
 *
 * <p>Allocation is first fit over a free list of ranges ordered by offset, coalesced on free, in
 * 64-byte units, so freed low ranges are reused first. The file is mapped once at start. A
 * background thread pre-faults the pool ({@link Prefaulter}): it keeps {@link #PREFAULT_AHEAD}
 * bytes past the highest range in use already written, and objects land on warm pages. When an
 * object does need pages past the warm region, the node's processes are asked (at most every {@link
 * GcRequests#HINT_INTERVAL_NANOS}) to collect garbage, since unreachable refs hold objects until
 * the collector finds them; freed low ranges are then reused instead of warming new ones.
 *
 * <p>Writer extents: a worker writing many objects would pay a {@code create} round trip to the
 * node manager per object, on the producer's critical path. Instead it is granted an extent (a
 * range of the store, an eighth of it at most) and claims room for its objects there itself,
 * through the {@link ExtentTable} in shared memory; the object becomes known here when its {@link
 * #sealInExtent seal} arrives. The unclaimed rest of every extent is taken back before anything is
 * spilled, and what a departed writer claimed without sealing is freed ({@link #releaseClient}).
 *
 * <p>Parts: this class owns the object table and the object lifecycle, and decides when room is
 * made; {@link StoreFile} owns the file and its mapping, {@link RangeAllocator} the free list,
 * {@link Spiller} the choice of victims and the spill files, {@link Prefaulter} the warm pages,
 * {@link GcRequests} when to ask for garbage collection, {@link WriterExtents} the extents.
 *
 * <p>Threads: every method is {@code synchronized}; the store's monitor is the lock that guards all
 * of those parts (the prefaulter waits on it and notifies it). Spill and restore I/O happen under
 * the lock (they are rare and bounded by the object's size). A create that finds no room while the
 * prefaulter holds a chunk waits for that chunk (milliseconds) rather than reporting the store
 * full: a reserved chunk is free space.
 */
public final class SharedMemoryStore implements AutoCloseable {
  private static final long ALIGN = RangeAllocator.ALIGN;

  /** The outcome of {@link #create}. */
  public sealed interface Created {}

  /** Write {@code size} bytes at {@code offset}, then seal. */
  public record Allocated(long offset) implements Created {}

  /** A sealed copy already exists (a retried task re-creating its return): nothing to write. */
  public record Exists() implements Created {}

  /** No room even after spilling, or larger than the whole store; {@code message} says why. */
  public record Refused(boolean tooLarge, String message) implements Created {}

  /**
   * No room yet: garbage collection was requested in the node's processes (see {@link #create});
   * retry shortly.
   */
  public record Retry() implements Created {}

  /** A pinned object's range. */
  public record Pinned(long offset, long size) {}

  /** Store usage, for stats and logs. */
  public record Usage(
      long capacity, long used, long objects, long spilledBytes, long spilledObjects) {}

  /** Warm region kept ahead of the highest range in use. */
  static final long PREFAULT_AHEAD = Prefaulter.AHEAD;

  private final StoreFile storeFile;
  private final long capacity;
  private final MemorySegment segment;

  @GuardedBy("this")
  private final RangeAllocator free;

  @GuardedBy("this")
  private final Spiller spiller;

  private final Prefaulter prefaulter;

  /** Access order: the eldest entry is the least recently used. */
  @GuardedBy("this")
  private final LinkedHashMap<ObjectId, StoredObject> objects =
      new LinkedHashMap<>(16, 0.75f, true);

  @GuardedBy("this")
  private long used;

  @GuardedBy("this")
  private boolean closed;

  @GuardedBy("this")
  private final GcRequests gcRequests;

  /** How the spiller makes room here. */
  private final Spiller.Room room =
      new Spiller.Room() {
        @Override
        @GuardedBy("SharedMemoryStore.this")
        public long fit(long need) {
          return firstFitLocked(need);
        }

        @Override
        @GuardedBy("SharedMemoryStore.this")
        public void drop(ObjectId id, StoredObject e) {
          dropLocked(id, e);
        }

        @Override
        @GuardedBy("SharedMemoryStore.this")
        public void free(long offset, long size) {
          freeRangeLocked(offset, size);
        }

        @Override
        @GuardedBy("SharedMemoryStore.this")
        public long used() {
          return used;
        }
      };

  /** Writer extents. */
  @GuardedBy("this")
  private final WriterExtents extents;

  private SharedMemoryStore(StoreFile storeFile, Path spillDir, GarbageCollection requestGc) {
    this.storeFile = storeFile;
    this.capacity = storeFile.capacity();
    this.segment = storeFile.segment();
    this.gcRequests = new GcRequests(requestGc);
    this.free = new RangeAllocator(capacity);
    this.spiller = new Spiller(spillDir, segment);
    this.prefaulter = new Prefaulter(this, free, segment, capacity);
    this.extents =
        new WriterExtents(
            storeFile.extentTable(),
            new WriterExtents.Ranges() {
              @Override
              @GuardedBy("SharedMemoryStore.this")
              public long take(long size) {
                long offset = free.take(size);
                if (offset >= 0) {
                  onAllocatedLocked(offset + size);
                }
                return offset;
              }

              @Override
              @GuardedBy("SharedMemoryStore.this")
              public void give(long offset, long size) {
                returnRangeLocked(offset, size);
              }
            });
  }

  /** How the store asks for garbage collection; must not block. */
  @FunctionalInterface
  public interface GarbageCollection {
    /**
     * Asks the processes that may hold unreachable refs to objects here to collect garbage: {@code
     * shortOfRoom} when an object did not fit, else only because cold pages are being taken (a hint
     * for this node's processes).
     */
    void request(boolean shortOfRoom);
  }

  /**
   * As {@link #create(Path, String, long, Path, GarbageCollection)}, with {@code requestGc} run for
   * every request.
   */
  public static SharedMemoryStore create(
      Path directory, String name, long capacity, Path spillDir, Runnable requestGc) {
    return create(directory, name, capacity, spillDir, shortOfRoom -> requestGc.run());
  }

  /**
   * Creates the store's file {@code name} in {@code directory} with {@code capacity} bytes and maps
   * it; spilled objects go to {@code spillDir}. {@code requestGc} asks for garbage collection (it
   * must not block).
   *
   * @throws RuntimeStartupException naming the directory when the file cannot be created
   */
  public static SharedMemoryStore create(
      Path directory, String name, long capacity, Path spillDir, GarbageCollection requestGc) {
    SharedMemoryStore store =
        new SharedMemoryStore(StoreFile.create(directory, name, capacity), spillDir, requestGc);
    store.prefaulter.start();
    return store;
  }

  /**
   * The name of a store file: {@code sluice-<node>-<pid>}, naming the process that owns it so that
   * a later store can remove it once that process is gone ({@link #removeStaleFiles}).
   */
  public static String fileName(String node, long pid) {
    return StoreFile.fileName(node, pid);
  }

  /**
   * Deletes store files in {@code directory} whose owning process no longer runs: a process killed
   * outright (kill -9, a crash) cannot remove its own, and a file in a memory file system holds
   * memory until it is deleted. Returns how many were removed.
   */
  public static int removeStaleFiles(Path directory) {
    return StoreFile.removeStaleFiles(directory);
  }

  /** The mapped file, for the node's processes to map. */
  public Path file() {
    return storeFile.path();
  }

  /** Capacity in bytes. */
  public long capacity() {
    return capacity;
  }

  /**
   * The arenas of the zero-copy views a client in this process has open over the mapping: they end
   * before the mapping does (see {@link #close}).
   */
  Set<Arena> openViews() {
    return storeFile.openViews();
  }

  /** The whole mapping, for a client in the node manager's own process. */
  public MemorySegment segment() {
    return segment;
  }

  /**
   * Reserves {@code size} bytes for {@code id}. When there is no room, refs that are already
   * unreachable may still hold objects (Java frees them only when the collector runs), so the first
   * answer is {@link Retry} after asking every process of the node to collect garbage; only if that
   * frees too little within a grace period are others spilled to disk.
   */
  public Created create(ObjectId id, long size) {
    return create(id, size, false);
  }

  /**
   * As {@link #create(ObjectId, long)}; {@code secondary} marks a copy of an object whose primary
   * copy is in another node's store: dropped instead of spilled when room is needed.
   */
  public synchronized Created create(ObjectId id, long size, boolean secondary) {
    checkOpen();
    if (size <= 0) {
      throw new IllegalArgumentException("object size must be positive: " + size);
    }
    if (size > capacity) {
      return new Refused(
          true,
          "object "
              + id
              + " of "
              + size
              + " bytes is larger than the "
              + "node's whole object store ("
              + capacity
              + " bytes; SluiceConfig.objectStoreBytes)");
    }
    StoredObject existing = objects.get(id);
    if (existing != null) {
      if (existing.sealed) {
        return new Exists();
      }
      // An unsealed leftover of a producer that died while writing: start over.
      dropLocked(id, existing);
    }
    long offset = firstFitLocked(alignedSize(size));
    while (offset < 0 && prefaulter.busy() && !closed) {
      // The prefaulter holds a chunk for a few milliseconds; it is free space, not usage.
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      offset = firstFitLocked(alignedSize(size));
    }
    if (offset < 0) {
      offset = spiller.dropSecondariesUntilFits(objects, alignedSize(size), room);
    }
    if (offset < 0) {
      if (gcRequests.retryAfterCollection()) {
        return new Retry();
      }
      offset = allocateLocked(size, null);
    }
    if (offset < 0) {
      return new Refused(
          false,
          "the node's object store is full: cannot fit object "
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
              + ")");
    }
    StoredObject e = new StoredObject(size, secondary);
    e.offset = offset;
    objects.put(id, e);
    return new Allocated(offset);
  }

  /** The outcome of {@link #sealInExtent}. */
  public enum ExtentSeal {
    /** The object is stored. */
    SEALED,
    /** A sealed copy already existed (a retry wrote it again): the new range was freed. */
    DUPLICATE,
    /** No such extent (freed when the client was declared gone), or the range is not in it. */
    REJECTED
  }

  /** Largest extent granted, as a fraction of capacity: extents never hold much of the store. */
  private static final int MAX_EXTENT_FRACTION = 8;

  /** Smallest extent granted when a client asks for less: room for several objects. */
  static final long MIN_EXTENT = 16L << 20;

  /** Extents hold this many objects of the size asked for, within the bounds above. */
  private static final int OBJECTS_PER_EXTENT = 4;

  /**
   * Grants {@code client} (a process of this node, by worker id) a writer extent with room for at
   * least {@code minSize} bytes (see {@link WriterExtents#grant}); null when the object should be
   * created on its own instead: larger than an eighth of the store, or no free range fits (spilling
   * and garbage collection are left to {@link #create}).
   */
  public synchronized WriterExtents.Grant grantExtent(String client, long minSize) {
    checkOpen();
    long need = alignedSize(minSize);
    long max = capacity / MAX_EXTENT_FRACTION / ALIGN * ALIGN;
    if (minSize <= 0 || need > max) {
      return null;
    }
    long want = Math.min(max, Math.max(MIN_EXTENT, need * OBJECTS_PER_EXTENT));
    return extents.grant(client, need, Math.max(need, want));
  }

  /**
   * Stores object {@code id}, which {@code client} wrote at {@code [offset, offset + size)} of its
   * extent ({@code slot}, {@code generation}): sealed at once.
   */
  public synchronized ExtentSeal sealInExtent(
      ObjectId id, String client, int slot, long generation, long offset, long size) {
    checkOpen();
    long len = alignedSize(size);
    if (size <= 0 || !extents.settle(client, slot, generation, offset, len)) {
      return ExtentSeal.REJECTED;
    }
    StoredObject existing = objects.get(id);
    if (existing != null && existing.sealed) {
      returnRangeLocked(offset, len);
      return ExtentSeal.DUPLICATE;
    }
    if (existing != null) {
      dropLocked(id, existing);
    }
    StoredObject e = new StoredObject(size, false);
    e.offset = offset;
    e.sealed = true;
    objects.put(id, e);
    used += len;
    return ExtentSeal.SEALED;
  }

  /** {@code client} claimed {@code [offset, offset + size)} and will not write it: freed. */
  public synchronized void abortInExtent(
      String client, int slot, long generation, long offset, long size) {
    long len = alignedSize(size);
    if (!closed && extents.settle(client, slot, generation, offset, len)) {
      returnRangeLocked(offset, len);
    }
  }

  /**
   * {@code client} is gone: its extent ends and whatever it claimed without sealing is freed.
   * Called when a worker process exits and when a store client closes.
   */
  public synchronized void releaseClient(String client) {
    if (!closed) {
      extents.release(client);
    }
  }

  /** Bytes held in writers' extents and not claimed yet (free, but reserved). */
  public synchronized long reservedForWriters() {
    return extents.reservedUnclaimed();
  }

  /** True if the store has a sealed copy of {@code id} (in memory or spilled). */
  public synchronized boolean contains(ObjectId id) {
    StoredObject e = objects.get(id);
    return e != null && e.sealed;
  }

  /** The ids of the objects in the store now (sealed or not, in memory or spilled). */
  public synchronized List<ObjectId> objectIds() {
    return List.copyOf(objects.keySet());
  }

  /** Marks {@code id} written: readable and spillable from now on. */
  public synchronized void seal(ObjectId id) {
    StoredObject e = objects.get(id);
    if (e != null) {
      e.sealed = true;
    }
  }

  /**
   * Pins a sealed object for reading (restoring it from disk if it was spilled); null if the store
   * does not have it.
   *
   * @throws UncheckedIOException if a spilled copy cannot be read back
   */
  public synchronized Pinned pin(ObjectId id) {
    checkOpen();
    StoredObject e = objects.get(id);
    if (e == null || !e.sealed) {
      return null;
    }
    if (e.offset < 0) {
      restoreLocked(id, e);
    }
    e.pins++;
    return new Pinned(e.offset, e.size);
  }

  /** Ends one {@link #pin}. */
  public synchronized void release(ObjectId id) {
    StoredObject e = objects.get(id);
    if (e == null || e.pins == 0) {
      return;
    }
    e.pins--;
    if (e.pins == 0 && e.deletePending) {
      dropLocked(id, e);
    }
  }

  /** Frees {@code id} (its owner no longer references it); deferred while it is pinned. */
  public synchronized void delete(ObjectId id) {
    StoredObject e = objects.get(id);
    if (e == null) {
      return;
    }
    if (e.pins > 0) {
      e.deletePending = true;
    } else {
      dropLocked(id, e);
    }
  }

  /** Bytes from the start of the pool that have been written at least once (warm pages). */
  synchronized long warmBytes() {
    return prefaulter.warmBytes();
  }

  /** Current usage. */
  public synchronized Usage usage() {
    return new Usage(
        capacity,
        used + extents.claimedUnsettled(),
        objects.size(),
        spiller.spilledBytes(),
        spiller.spilledObjects());
  }

  /** Unmaps and removes the file and every spilled object. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      prefaulter.stop();
      notifyAll();
    }
    prefaulter.join();
    synchronized (this) {
      for (StoredObject e : objects.values()) {
        spiller.deleteFile(e);
      }
      objects.clear();
      extents.close();
      storeFile.close();
    }
  }

  @GuardedBy("this")
  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the object store is closed");
    }
  }

  private static long alignedSize(long size) {
    return RangeAllocator.aligned(size);
  }

  /** First fit; spills least recently used unpinned objects (never {@code keep}) if needed. */
  @GuardedBy("this")
  private long allocateLocked(long size, ObjectId keep) {
    long need = alignedSize(size);
    long offset = firstFitLocked(need);
    if (offset >= 0) {
      return offset;
    }
    return spiller.spillUntilFits(objects, keep, need, size, room);
  }

  /**
   * Takes {@code need} bytes for an object, lowest offset first; when no free range fits, the
   * unclaimed rest of every writer extent is taken back first (it is free space, only reserved). -1
   * if nothing fits even then.
   */
  @GuardedBy("this")
  private long firstFitLocked(long need) {
    long offset = free.take(need);
    if (offset < 0 && extents.revokeAll() > 0) {
      offset = free.take(need);
    }
    if (offset >= 0) {
      used += need;
      onAllocatedLocked(offset + need);
    }
    return offset;
  }

  /** Tracks the high-water mark; hints a collection when cold pages are being taken. */
  @GuardedBy("this")
  private void onAllocatedLocked(long end) {
    if (prefaulter.allocated(end)) {
      gcRequests.coldPagesTaken();
    }
    notifyAll();
  }

  @GuardedBy("this")
  private void freeRangeLocked(long offset, long size) {
    used -= alignedSize(size);
    returnRangeLocked(offset, size);
  }

  /** Puts a range back on the free list, merged with free neighbours. */
  @GuardedBy("this")
  private void returnRangeLocked(long offset, long size) {
    free.give(offset, alignedSize(size));
  }

  @GuardedBy("this")
  private void restoreLocked(ObjectId id, StoredObject e) {
    long offset = allocateLocked(e.size, id);
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
      freeRangeLocked(offset, e.size);
      throw new UncheckedIOException(
          "object " + id + " spilled to " + e.spilledTo + " cannot be restored: " + ex.getMessage(),
          ex);
    }
    spiller.deleteFile(e);
    e.offset = offset;
  }

  @GuardedBy("this")
  private void dropLocked(ObjectId id, StoredObject e) {
    objects.remove(id);
    if (e.offset >= 0) {
      freeRangeLocked(e.offset, e.size);
    }
    spiller.deleteFile(e);
  }
}
