package dev.sluice.runtime.objectstore;

import dev.sluice.NodeId;
import dev.sluice.ObjectBuffer;
import dev.sluice.ObjectId;
import dev.sluice.ObjectLostException;
import dev.sluice.ObjectStoreFullException;
import dev.sluice.ObjectTooLargeException;
import dev.sluice.RuntimeStartupException;
import dev.sluice.SluiceException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process's access to its node's {@link SharedMemoryStore}: the store's file mapped into this
 * process, and the calls ({@link StoreCalls}) that reserve, seal, pin, release and delete objects.
 * Bytes never travel over RPC within a node: the producer copies them into its mapping, readers
 * read theirs. An object stored on another node is first fetched into this node's store by the node
 * manager ({@link StoreCalls#fetch}, which pulls it from the node manager named in its location),
 * then read like a local one; that copy is the store's to evict.
 *
 * <p>Writes: a worker claims room in its writer extent ({@link ExtentWriter}) and copies there with
 * no round trip; the seal that makes the object known to the node manager follows, and {@link
 * #writeAsync} lets a producer go on while it is under way. Objects too large for an extent, and
 * every write of the node manager's own process, create a range per object. Zero-copy reads are
 * {@link PinnedViews}'.
 *
 * <p>Thread-safe: it holds no lock of its own ({@link ExtentWriter} serializes claims). Blocking
 * calls ({@link #write}, {@link #pin}) must not run on transport threads; {@link #release} and
 * {@link #delete} are asynchronous.
 */
public final class SharedMemoryClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SharedMemoryClient.class);

  /** How long a writer waits for an extent asked for ahead. */
  private static final long EXTENT_REPLY_SECONDS = 60;

  private static final long RETRY_MILLIS = 10;

  /** Fetches of one read: a fetched copy may be evicted before this process pins it. */
  private static final int FETCH_ATTEMPTS = 3;

  private static final CompletableFuture<Void> SEALED = CompletableFuture.completedFuture(null);

  private final NodeId nodeId;

  /** This node's node manager, named in the locations of the objects written here. */
  private final String nodeManager;

  private final Path file;

  /** The arena of this process's own mapping; null when it uses the store's (in its process). */
  private final Arena arena;

  private final MemorySegment segment;
  private final StoreCalls calls;

  /** This process's writer extents; null in the node manager's own process. */
  private final ExtentWriter extents;

  private final PinnedViews views;

  private SharedMemoryClient(
      NodeId nodeId,
      String nodeManager,
      Path file,
      Arena arena,
      MemorySegment segment,
      StoreCalls calls,
      ExtentWriter extents,
      Set<Arena> openViews) {
    this.nodeId = nodeId;
    this.nodeManager = nodeManager;
    this.file = file;
    this.arena = arena;
    this.segment = segment;
    this.calls = calls;
    this.extents = extents;
    this.views = new PinnedViews(file, segment, openViews);
  }

  /**
   * A client in the process that hosts the node manager (an embedded driver): it uses {@code
   * store}'s own mapping and calls it directly instead of over loopback; only fetches from other
   * nodes go to the node manager, through {@code remote}. {@code nodeManagerTarget} is where that
   * node manager listens.
   */
  public static SharedMemoryClient inProcess(
      NodeId nodeId, SharedMemoryStore store, StoreCalls remote, String nodeManagerTarget) {
    // The views share the store's mapping, which ends them first.
    return new SharedMemoryClient(
        nodeId,
        nodeManagerTarget,
        store.file(),
        null,
        store.segment(),
        new LocalStoreCalls(store, remote),
        null,
        store.openViews());
  }

  /**
   * Maps the store file {@code file} of {@code capacity} bytes of node {@code nodeId}, whose node
   * manager listens at {@code nodeManagerTarget} and is reached through {@code calls} (which name
   * this process, whose writer extents the node manager frees when it exits).
   */
  public static SharedMemoryClient map(
      NodeId nodeId, Path file, long capacity, StoreCalls calls, String nodeManagerTarget) {
    Arena arena = Arena.ofShared();
    ExtentTable table = null;
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, capacity, arena);
      table = openExtentTable(file);
      ExtentWriter extents =
          table == null ? null : new ExtentWriter(table, calls, EXTENT_REPLY_SECONDS);
      return new SharedMemoryClient(
          nodeId,
          nodeManagerTarget,
          file,
          arena,
          seg,
          calls,
          extents,
          ConcurrentHashMap.newKeySet());
    } catch (IOException | RuntimeException e) {
      if (table != null) {
        table.close();
      }
      arena.close();
      throw new RuntimeStartupException(
          "cannot map the node's shared-memory object store " + file + ": " + e, e);
    }
  }

  /** The store's extent table, or null (objects are then created one by one) if it is missing. */
  private static ExtentTable openExtentTable(Path storeFile) {
    try {
      return ExtentTable.open(storeFile);
    } catch (IOException | RuntimeException e) {
      log.warn(
          "no writer extents: cannot map the extent table of {} ({}); objects are created one"
              + " by one",
          storeFile,
          e.toString());
      return null;
    }
  }

  /** The node whose store this is. */
  public NodeId nodeId() {
    return nodeId;
  }

  /**
   * Stores {@code bytes} as object {@code id} (a retry finding its sealed copy reuses it) and
   * returns its location, once the object is sealed (readable).
   *
   * @param raw true if {@code bytes} is a {@code byte[]} value itself rather than its serialized
   *     form
   * @throws ObjectStoreFullException if the store has no room even after spilling
   * @throws ObjectTooLargeException if the object is larger than the whole store
   * @throws ObjectLostException if the node manager refused the seal
   */
  public StoreLocation write(ObjectId id, byte[] bytes, boolean raw) {
    Written written = writeAsync(id, bytes, raw);
    try {
      written.sealed().join();
      return written.location();
    } catch (CompletionException e) {
      throw e.getCause() instanceof SluiceException s
          ? s
          : new SluiceException("writing object " + id + " failed: " + e.getCause(), e);
    }
  }

  /**
   * As {@link #write}, but returns once the bytes are in shared memory: the object is sealed when
   * {@link Written#sealed} completes, and only then may its location be handed to a reader (a
   * streamed item's report waits for it). A producer thus copies its next item while the node
   * manager seals the last one. The copy goes into this process's writer extent when it has room
   * (no round trip before the copy), else into a range created for the object alone.
   *
   * @throws ObjectStoreFullException if the store has no room even after spilling
   * @throws ObjectTooLargeException if the object is larger than the whole store
   */
  public Written writeAsync(ObjectId id, byte[] bytes, boolean raw) {
    StoreLocation location = new StoreLocation(nodeId, nodeManager, bytes.length, raw);
    ExtentClaim claim = extents == null ? null : extents.claim(bytes.length);
    if (claim == null) {
      createAndWrite(id, bytes);
      return new Written(location, SEALED);
    }
    try {
      MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, claim.offset(), bytes.length);
    } catch (RuntimeException e) {
      calls.abortInExtent(id, claim, bytes.length);
      throw e;
    }
    return new Written(location, calls.sealInExtent(id, claim, bytes.length));
  }

  /**
   * An object written to the store: {@code location} refers to it, and it may be read once {@code
   * sealed} completes (exceptionally with {@link ObjectLostException} if the node manager refused
   * the seal).
   */
  public record Written(StoreLocation location, CompletableFuture<Void> sealed) {}

  /** Writes {@code bytes} as object {@code id} in a range created for it alone, and seals it. */
  private void createAndWrite(ObjectId id, byte[] bytes) {
    while (true) {
      switch (calls.create(id, bytes.length)) {
        case SharedMemoryStore.Allocated a -> {
          MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, a.offset(), bytes.length);
          calls.seal(id);
          return;
        }
        case SharedMemoryStore.Exists e -> {
          // a sealed copy from an earlier attempt: the same deterministic object
          return;
        }
        case SharedMemoryStore.Refused r ->
            throw r.tooLarge()
                ? new ObjectTooLargeException(r.message())
                : new ObjectStoreFullException(r.message());
        case SharedMemoryStore.Retry r -> pauseForRoom(id);
      }
    }
  }

  /** The node is collecting garbage to free objects whose refs are gone: waits a little. */
  private static void pauseForRoom(ObjectId id) {
    try {
      Thread.sleep(RETRY_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SluiceException(
          "interrupted while waiting for room for object " + id + " in the node's object store");
    }
  }

  /**
   * Pins the object {@code id} stored at {@code where}, fetching it into this node's store first
   * when {@code where} is another node's store; see {@link #pin(ObjectId)}.
   *
   * @throws ObjectLostException if the object is in neither store, or cannot be transferred; the
   *     message names the object and the node that held it
   * @throws ObjectStoreFullException if this node's store has no room for the copy
   */
  public MemorySegment pin(ObjectId id, StoreLocation where) {
    if (isLocal(where)) {
      return pin(id);
    }
    for (int attempt = 1; ; attempt++) {
      fetch(id, where);
      try {
        return pin(id);
      } catch (ObjectLostException e) {
        if (attempt == FETCH_ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  /**
   * As {@link #openBuffer(ObjectId)} for the object stored at {@code where}, fetched into this
   * node's store first when it is another node's.
   */
  public ObjectBuffer openBuffer(ObjectId id, StoreLocation where) {
    MemorySegment pinned = pin(id, where);
    return views.open(id, pinned, () -> release(id));
  }

  private boolean isLocal(StoreLocation where) {
    return nodeId.equals(where.node());
  }

  /**
   * Starts bringing {@code id} from another node's store into this node's without waiting: a later
   * {@link #pin(ObjectId, StoreLocation)} joins the transfer (the node manager merges fetches of
   * one object) or finds the copy there. Failures are left to that pin.
   */
  public void prefetch(ObjectId id, StoreLocation where) {
    if (isLocal(where) || where.nodeManager() == null) {
      return;
    }
    calls.prefetch(id, where);
  }

  /** Asks this node's manager to bring {@code id} from the node at {@code where}. */
  private void fetch(ObjectId id, StoreLocation where) {
    if (where.nodeManager() == null) {
      throw new ObjectLostException(
          "object "
              + id
              + " is in the object store of "
              + where.describeNode()
              + ", which does not name its node manager, so it cannot be transferred to node "
              + nodeId);
    }
    calls.fetch(id, where);
  }

  /**
   * Pins object {@code id} and returns a read-only view of its bytes, valid until {@link #release}
   * (the store neither spills nor frees a pinned object).
   *
   * @throws ObjectLostException if this node's store does not have the object
   */
  public MemorySegment pin(ObjectId id) {
    StoreCalls.PinAnswer r = calls.pin(id);
    if (r.range() == null) {
      throw new ObjectLostException(
          "object "
              + id
              + " is not in the shared-memory store of node "
              + nodeId
              + (r.reason().isEmpty() ? "" : ": " + r.reason()));
    }
    return segment.asSlice(r.range().offset(), r.range().size()).asReadOnly();
  }

  /**
   * Pins object {@code id} and maps its bytes read-only in an arena of their own, for a caller that
   * holds them beyond one read: closing the buffer unmaps them and ends the pin.
   *
   * @throws ObjectLostException if this node's store does not have the object
   */
  public ObjectBuffer openBuffer(ObjectId id) {
    return views.open(id, pin(id), () -> release(id));
  }

  /** Ends one {@link #pin} of {@code id}. */
  public void release(ObjectId id) {
    calls.release(id);
  }

  /** Frees {@code id} in the store: its owner no longer references it. */
  public void delete(ObjectId id) {
    calls.delete(id);
  }

  /** The store's usage. */
  public SharedMemoryStore.Usage usage() {
    return calls.usage();
  }

  /**
   * Unmaps the store; views handed out become invalid (their reads fail). The node manager is told
   * this process's extents are free.
   */
  @Override
  public void close() {
    boolean viewsEnded = views.close();
    if (extents != null) {
      extents.close();
    }
    if (arena != null) {
      if (viewsEnded) {
        closeQuietly(arena);
      } else {
        log.warn("store client of {} closed with buffer views in use: left mapped", file);
      }
    }
  }

  private static void closeQuietly(Arena arena) {
    try {
      arena.close();
    } catch (IllegalStateException e) {
      // already closed, or being read by another thread; the mapping goes with the process
    }
  }
}
