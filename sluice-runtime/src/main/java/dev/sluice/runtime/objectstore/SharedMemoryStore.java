package dev.sluice.runtime.objectstore;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.sluice.ObjectId;
import dev.sluice.RuntimeStartupException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * <p>Room: when a range cannot be found, writer extents are taken back, secondary copies dropped,
 * garbage collection asked for, and only then sealed objects that nobody pins spilled to the node's
 * spill directory ({@link StoreSpace} has the order); a pin of a spilled object restores it. Only
 * when nothing makes room does {@link #create} report the store full.
 *
 * <p>Secondary copies: an object pulled from another node's store ({@code create(id, size, true)})
 * can be pulled again, so it is never spilled: when room is needed it is dropped. Owners delete
 * objects only in their own node's store, so dropping under pressure is also what frees secondary
 * copies on other nodes.
 *
 * <p>Writer extents: a worker writing many objects would pay a {@code create} round trip to the
 * node manager per object, on the producer's critical path. Instead it is granted an extent (a
 * range of the store, an eighth of it at most) and claims room for its objects there itself,
 * through the {@link ExtentTable} in shared memory; the object becomes known here when its {@link
 * #sealInExtent seal} arrives. What a departed writer claimed without sealing is freed ({@link
 * #releaseClient}).
 *
 * <p>Parts: this class owns the object table (in access order: the eldest is the least recently
 * used) and each object's lifecycle; {@link StoreSpace} owns where bytes go and making room, with
 * {@link RangeAllocator} (the free list), {@link Spiller}, {@link Prefaulter}, {@link GcRequests}
 * and {@link WriterExtents}; {@link StoreFile} owns the file and its mapping.
 *
 * <p>Threads: the store's monitor is the one lock: every public method is {@code synchronized}, and
 * it guards the object table and every part above. Callers are the node manager's transport threads
 * (through {@code storerpc.ObjectStoreGrpcService}), the object manager's transfers, and an
 * in-process client's threads ({@link LocalStoreCalls}); the prefaulter's thread takes the lock
 * too, to reserve and return chunks. Spill and restore I/O happen under the lock (they are rare and
 * bounded by the object's size). A create that finds no room while the prefaulter holds a chunk
 * waits on the monitor for that chunk (milliseconds) rather than reporting the store full: a
 * reserved chunk is free space.
 */
public final class SharedMemoryStore implements AutoCloseable {
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

  /** Access order: the eldest entry is the least recently used. */
  @GuardedBy("this")
  private final LinkedHashMap<ObjectId, StoredObject> objects =
      new LinkedHashMap<>(16, 0.75f, true);

  private final StoreSpace space;

  /** Writer extents: the space's. */
  private final WriterExtents extents;

  private boolean closed;

  private SharedMemoryStore(StoreFile storeFile, Path spillDir, GarbageCollection requestGc) {
    this.storeFile = storeFile;
    this.capacity = storeFile.capacity();
    this.space = new StoreSpace(this, storeFile, objects, spillDir, requestGc);
    this.extents = space.extents();
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
    store.space.start();
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
    return storeFile.segment();
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
      space.drop(id, existing);
    }
    long offset = space.place(id, size);
    if (offset == StoreSpace.RETRY) {
      return new Retry();
    }
    if (offset < 0) {
      return new Refused(false, space.fullMessage(id, size));
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

  /**
   * Grants {@code client} (a process of this node, by worker id) a writer extent with room for at
   * least {@code minSize} bytes (see {@link WriterExtents#grantFor}); null when the object should
   * be created on its own instead: larger than an eighth of the store, or no free range fits
   * (spilling and garbage collection are left to {@link #create}).
   */
  public synchronized ExtentGrant grantExtent(String client, long minSize) {
    checkOpen();
    return extents.grantFor(client, minSize, capacity);
  }

  /**
   * Stores object {@code id}, which {@code client} wrote at {@code [offset, offset + size)} of its
   * extent ({@code slot}, {@code generation}): sealed at once.
   */
  public synchronized ExtentSeal sealInExtent(
      ObjectId id, String client, int slot, long generation, long offset, long size) {
    checkOpen();
    long len = RangeAllocator.aligned(size);
    if (size <= 0 || !extents.settle(client, slot, generation, offset, len)) {
      return ExtentSeal.REJECTED;
    }
    StoredObject existing = objects.get(id);
    if (existing != null && existing.sealed) {
      space.giveBack(offset, len);
      return ExtentSeal.DUPLICATE;
    }
    if (existing != null) {
      space.drop(id, existing);
    }
    StoredObject e = new StoredObject(size, false);
    e.offset = offset;
    e.sealed = true;
    objects.put(id, e);
    space.claimedBySeal(len);
    return ExtentSeal.SEALED;
  }

  /** {@code client} claimed {@code [offset, offset + size)} and will not write it: freed. */
  public synchronized void abortInExtent(
      String client, int slot, long generation, long offset, long size) {
    long len = RangeAllocator.aligned(size);
    if (!closed && extents.settle(client, slot, generation, offset, len)) {
      space.giveBack(offset, len);
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

  /**
   * One object of the store as the state API lists it.
   *
   * @param id the object
   * @param size its size
   * @param state {@code CREATED}, {@code SEALED} or {@code SPILLED}
   * @param pins readers holding it now
   */
  public record Entry(ObjectId id, long size, String state, int pins) {}

  /** Every object in the store now (sealed or not, in memory or spilled). */
  public synchronized List<Entry> entries() {
    List<Entry> out = new ArrayList<>(objects.size());
    objects.forEach(
        (id, e) ->
            out.add(
                new Entry(
                    id,
                    e.size,
                    !e.sealed
                        ? "CREATED"
                        : e.offset < 0 && e.spilledTo != null ? "SPILLED" : "SEALED",
                    e.pins)));
    return out;
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
      space.restore(id, e);
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
      space.drop(id, e);
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
      space.drop(id, e);
    }
  }

  /** Bytes from the start of the pool that have been written at least once (warm pages). */
  synchronized long warmBytes() {
    return space.warmBytes();
  }

  /** Current usage. */
  public synchronized Usage usage() {
    return space.usage();
  }

  /** Unmaps and removes the file and every spilled object. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      space.stop();
    }
    space.join();
    synchronized (this) {
      space.close();
      storeFile.close();
    }
  }

  @GuardedBy("this")
  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the object store is closed");
    }
  }
}
