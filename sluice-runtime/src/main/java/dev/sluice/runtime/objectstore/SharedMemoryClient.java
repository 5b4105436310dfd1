package dev.sluice.runtime.objectstore;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.ObjectLostException;
import dev.sluice.ObjectStoreFullException;
import dev.sluice.ObjectTooLargeException;
import dev.sluice.RuntimeStartupException;
import dev.sluice.SluiceException;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.Callbacks;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.CreateObjectReply;
import dev.sluice.runtime.rpc.proto.CreateObjectRequest;
import dev.sluice.runtime.rpc.proto.DeleteObjectsRequest;
import dev.sluice.runtime.rpc.proto.FetchObjectRequest;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsReply;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsRequest;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.PinObjectReply;
import dev.sluice.runtime.rpc.proto.PinObjectRequest;
import dev.sluice.runtime.rpc.proto.ReleaseObjectRequest;
import dev.sluice.runtime.rpc.proto.ReserveExtentReply;
import dev.sluice.runtime.rpc.proto.ReserveExtentRequest;
import dev.sluice.runtime.rpc.proto.SealObjectReply;
import dev.sluice.runtime.rpc.proto.SealObjectRequest;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One process's access to its node's {@link SharedMemoryStore}: the store's file mapped into this
 * process, and the node manager calls that reserve, seal, pin, release and delete objects. Bytes
 * never travel over RPC within a node: the producer copies them into its mapping, readers read
 * theirs. An object stored on another node is first fetched into this node's store by the node
 * manager ({@code FetchObject}, which pulls it from the node manager named in its location), then
 * read like a local one; that copy is the store's to evict.
 *
 * <p>Writes: a worker claims room in its writer extent (see {@link ExtentTable}) and copies there
 * with no round trip; the seal that makes the object known to the node manager follows, and {@link
 * #writeAsync} lets a producer go on while it is under way. Objects too large for an extent, and
 * every write of the node manager's own process, create a range per object.
 *
 * <p>Thread-safe. Blocking calls ({@link #write}, {@link #pin}) must not run on transport threads;
 * {@link #release} and {@link #delete} are asynchronous. {@code extentLock} serializes this
 * process's claims and extent requests; the extent table itself is shared with the node manager
 * through atomic operations only.
 */
public final class SharedMemoryClient implements AutoCloseable {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(SharedMemoryClient.class);
  private static final long RPC_TIMEOUT_SECONDS = 60;
  private static final long RETRY_MILLIS = 10;
  private static final long FETCH_TIMEOUT_SECONDS = 600;

  /** Fetches of one read: a fetched copy may be evicted before this process pins it. */
  private static final int FETCH_ATTEMPTS = 3;

  /** After the node refused an extent, objects are created one by one for this long. */
  private static final long NO_EXTENT_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final NodeId nodeId;
  private final Path file;
  private final Arena arena;
  private final MemorySegment segment;
  private final Channel nodeManager;

  /** This node's node manager, named in the locations of the objects written here. */
  private final Address nodeManagerAddress;

  /** The node manager's store service when it runs in this process (calls skip the RPC). */
  private final ObjectStoreService local;

  /**
   * Arenas of the {@link #openBuffer} views still open: views share the store's mapping, so {@link
   * #close} ends them (their reads fail) before the mapping can go away.
   */
  private final java.util.Set<Arena> openBuffers;

  private volatile boolean rescopeAllowed = true;

  /** This process's writer extent table; null in the node manager's own process. */
  private final ExtentTable extents;

  /** This process's worker id: whose extents these are. */
  private final ByteString clientId;

  private final Object extentLock = new Object();

  /** The current extent's slot (-1: none) and generation. */
  @GuardedBy("extentLock")
  private int extentSlot = -1;

  @GuardedBy("extentLock")
  private long extentGeneration;

  @GuardedBy("extentLock")
  private long extentEnd;

  /** The next extent, asked for ahead. */
  @GuardedBy("extentLock")
  private CompletableFuture<ReserveExtentReply> askedAhead;

  @GuardedBy("extentLock")
  private long noExtentUntil;

  private volatile boolean closed;

  private SharedMemoryClient(
      NodeId nodeId,
      Path file,
      Arena arena,
      MemorySegment segment,
      Channel nodeManager,
      String nodeManagerTarget,
      ObjectStoreService local,
      ExtentTable extents,
      ByteString clientId) {
    this.extents = extents;
    this.clientId = clientId;
    // In the node manager's process the views share the store's mapping, which ends them first.
    this.openBuffers =
        local != null
            ? local.store().openViews()
            : java.util.concurrent.ConcurrentHashMap.newKeySet();
    this.nodeId = nodeId;
    this.nodeManagerAddress = Addresses.ofNodeManager(nodeId, nodeManagerTarget);
    this.file = file;
    this.arena = arena;
    this.segment = segment;
    this.nodeManager = nodeManager;
    this.local = local;
  }

  /**
   * A client in the process that hosts the node manager (an embedded driver): it uses the store's
   * own mapping and calls {@code service} directly instead of over loopback; only fetches from
   * other nodes go to the node manager, at {@code nodeManagerTarget} through {@code nodeManager}.
   */
  public static SharedMemoryClient inProcess(
      NodeId nodeId, ObjectStoreService service, Channel nodeManager, String nodeManagerTarget) {
    SharedMemoryStore store = service.store();
    return new SharedMemoryClient(
        nodeId,
        store.file(),
        null,
        store.segment(),
        nodeManager,
        nodeManagerTarget,
        service,
        null,
        null);
  }

  /**
   * Maps the store file {@code file} of {@code capacity} bytes of node {@code nodeId}, whose node
   * manager listens at {@code nodeManagerTarget}, reached through {@code nodeManager}, for the
   * process {@code workerId} (whose writer extents the node manager frees when it exits).
   */
  public static SharedMemoryClient map(
      NodeId nodeId,
      Path file,
      long capacity,
      Channel nodeManager,
      String nodeManagerTarget,
      ByteString workerId) {
    Arena arena = Arena.ofShared();
    ExtentTable extents = null;
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, capacity, arena);
      extents = openExtentTable(file);
      return new SharedMemoryClient(
          nodeId, file, arena, seg, nodeManager, nodeManagerTarget, null, extents, workerId);
    } catch (IOException | RuntimeException e) {
      if (extents != null) {
        extents.close();
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
   * returns the value that refers to it, once the object is sealed (readable).
   *
   * @param raw true if {@code bytes} is a {@code byte[]} value itself rather than its serialized
   *     form
   * @throws ObjectStoreFullException if the store has no room even after spilling
   * @throws ObjectTooLargeException if the object is larger than the whole store
   * @throws ObjectLostException if the node manager refused the seal
   */
  public ObjectValue write(ObjectId id, byte[] bytes, boolean raw) {
    Written written = writeAsync(id, bytes, raw);
    try {
      written.sealed().join();
      return written.value();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof SluiceException s
          ? s
          : new SluiceException("writing object " + id + " failed: " + e.getCause(), e);
    }
  }

  /**
   * As {@link #write}, but returns once the bytes are in shared memory: the object is sealed when
   * {@link Written#sealed} completes, and only then may its value be handed to a reader (a streamed
   * item's report waits for it). A producer thus copies its next item while the node manager seals
   * the last one. The copy goes into this process's writer extent when it has room (no round trip
   * before the copy), else into a range created for the object alone.
   *
   * @throws ObjectStoreFullException if the store has no room even after spilling
   * @throws ObjectTooLargeException if the object is larger than the whole store
   */
  public Written writeAsync(ObjectId id, byte[] bytes, boolean raw) {
    ObjectValue value =
        ObjectValue.newBuilder()
            .setShared(
                SharedMemoryLocation.newBuilder()
                    .setNodeId(ByteString.copyFrom(nodeId.toBytes()))
                    .setSize(bytes.length)
                    .setRawBytes(raw)
                    .setNodeManager(nodeManagerAddress))
            .build();
    Claim claim = claim(bytes.length);
    if (claim == null) {
      createAndWrite(id, bytes);
      return new Written(value, SEALED);
    }
    try {
      MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, claim.offset(), bytes.length);
    } catch (RuntimeException e) {
      sealInExtent(id, claim, bytes.length, true);
      throw e;
    }
    return new Written(value, sealInExtent(id, claim, bytes.length, false));
  }

  /**
   * An object written to the store: {@code value} refers to it, and it may be read once {@code
   * sealed} completes (exceptionally with {@link ObjectLostException} if the node manager refused
   * the seal).
   */
  public record Written(ObjectValue value, CompletableFuture<Void> sealed) {}

  private static final CompletableFuture<Void> SEALED = CompletableFuture.completedFuture(null);

  /** Room claimed in this process's extent {@code slot}/{@code generation}. */
  private record Claim(int slot, long generation, long offset) {}

  /**
   * Claims {@code size} bytes in this process's writer extent; when it is used up, moves on to the
   * next extent, asked for ahead (see {@link #askAheadLocked}) or, failing that, now. Null when the
   * object is to be created on its own (no extent table, too large for an extent, or the node has
   * no extent to give).
   */
  private Claim claim(long size) {
    if (extents == null) {
      return null;
    }
    long need = (size + 63) / 64 * 64;
    synchronized (extentLock) {
      if (extentSlot >= 0) {
        long offset = extents.claim(extentSlot, extentGeneration, need);
        if (offset >= 0) {
          askAheadLocked(need, offset + need);
          return new Claim(extentSlot, extentGeneration, offset);
        }
      }
      ReserveExtentReply r = takeAskedAheadLocked(RPC_TIMEOUT_SECONDS);
      if (r == null || !r.getGranted() || r.getSize() < need) {
        if (System.nanoTime() < noExtentUntil) {
          return null;
        }
        try {
          r = blocking().reserveExtent(reserve(size));
        } catch (StatusRuntimeException e) {
          return null;
        }
      }
      if (!r.getGranted()) {
        // Short of room (or too large for an extent): create objects one by one for a while.
        extentSlot = -1;
        noExtentUntil = System.nanoTime() + NO_EXTENT_BACKOFF_NANOS;
        return null;
      }
      extentSlot = r.getSlot();
      extentGeneration = r.getGeneration();
      extentEnd = r.getOffset() + r.getSize();
      long offset = extents.claim(extentSlot, extentGeneration, need);
      if (offset < 0) {
        return null;
      }
      askAheadLocked(need, offset + need);
      return new Claim(extentSlot, extentGeneration, offset);
    }
  }

  private ReserveExtentRequest reserve(long minSize) {
    return ReserveExtentRequest.newBuilder().setClientId(clientId).setMinSize(minSize).build();
  }

  /**
   * When the current extent has no room left for another object of {@code need} bytes past {@code
   * claimedTo}, asks for the next extent now, so that the writer moves on to it without waiting for
   * a round trip (a producer of large items would otherwise wait once per extent).
   */
  @GuardedBy("extentLock")
  private void askAheadLocked(long need, long claimedTo) {
    if (askedAhead != null || extentEnd - claimedTo >= need) {
      return;
    }
    CompletableFuture<ReserveExtentReply> reply = new CompletableFuture<>();
    askedAhead = reply;
    NodeManagerServiceGrpc.newStub(nodeManager)
        .withDeadlineAfter(RPC_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .reserveExtent(reserve(need), Callbacks.into(reply));
  }

  /**
   * The extent asked for ahead, waiting up to {@code timeoutSeconds} for it if it is still on its
   * way; null if none (or no answer).
   */
  @GuardedBy("extentLock")
  private ReserveExtentReply takeAskedAheadLocked(long timeoutSeconds) {
    CompletableFuture<ReserveExtentReply> reply = askedAhead;
    askedAhead = null;
    if (reply == null) {
      return null;
    }
    try {
      return reply.get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return null;
    }
  }

  /** Seals (or, {@code abort}, gives back) an object written in an extent. */
  private CompletableFuture<Void> sealInExtent(ObjectId id, Claim claim, long size, boolean abort) {
    SealObjectRequest req =
        SealObjectRequest.newBuilder()
            .setObjectId(ByteString.copyFrom(id.toBytes()))
            .setClientId(clientId)
            .setExtentSlot(claim.slot())
            .setExtentGeneration(claim.generation())
            .setOffset(claim.offset())
            .setSize(size)
            .setAbort(abort)
            .build();
    CompletableFuture<SealObjectReply> reply = new CompletableFuture<>();
    NodeManagerServiceGrpc.newStub(nodeManager)
        .withDeadlineAfter(RPC_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .sealObject(req, Callbacks.into(reply));
    return reply.handle(
        (r, t) -> {
          if (t != null) {
            throw new ObjectLostException(
                "object "
                    + id
                    + " could not be sealed in the "
                    + "shared-memory store of node "
                    + nodeId
                    + ": "
                    + io.grpc.Status.fromThrowable(t));
          }
          if (r.getRejected()) {
            throw new ObjectLostException(r.getMessage());
          }
          return null;
        });
  }

  /** Writes {@code bytes} as object {@code id} in a range created for it alone, and seals it. */
  private void createAndWrite(ObjectId id, byte[] bytes) {
    ByteString idBytes = ByteString.copyFrom(id.toBytes());
    CreateObjectRequest request =
        CreateObjectRequest.newBuilder().setObjectId(idBytes).setSize(bytes.length).build();
    CreateObjectReply created = create(request);
    while (created.getStatus() == CreateObjectReply.Status.RETRY) {
      // The node is collecting garbage to free objects whose refs are gone.
      try {
        Thread.sleep(RETRY_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SluiceException(
            "interrupted while waiting for room for object " + id + " in the node's object store");
      }
      created = create(request);
    }
    switch (created.getStatus()) {
      case CREATED -> {
        MemorySegment.copy(
            bytes, 0, segment, ValueLayout.JAVA_BYTE, created.getOffset(), bytes.length);
        SealObjectRequest seal = SealObjectRequest.newBuilder().setObjectId(idBytes).build();
        if (local != null) {
          local.seal(seal);
        } else {
          blocking().sealObject(seal);
        }
      }
      case EXISTS -> {
        // a sealed copy from an earlier attempt: the same deterministic object
      }
      case STORE_FULL -> throw new ObjectStoreFullException(created.getMessage());
      case TOO_LARGE -> throw new ObjectTooLargeException(created.getMessage());
      default -> throw new SluiceException("object store refused " + id + ": " + created);
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
  public MemorySegment pin(ObjectId id, SharedMemoryLocation where) {
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
  public dev.sluice.ObjectBuffer openBuffer(ObjectId id, SharedMemoryLocation where) {
    MemorySegment pinned = pin(id, where);
    return openPinned(id, pinned);
  }

  private boolean isLocal(SharedMemoryLocation where) {
    return where.getNodeId().equals(nodeManagerAddress.getNodeId());
  }

  /**
   * Starts bringing {@code id} from another node's store into this node's without waiting: a later
   * {@link #pin(ObjectId, SharedMemoryLocation)} joins the transfer (the node manager merges
   * fetches of one object) or finds the copy there. Failures are left to that pin.
   */
  public void prefetch(ObjectId id, SharedMemoryLocation where) {
    if (isLocal(where) || !where.hasNodeManager()) {
      return;
    }
    NodeManagerServiceGrpc.newStub(nodeManager)
        .fetchObject(
            FetchObjectRequest.newBuilder()
                .setObjectId(ByteString.copyFrom(id.toBytes()))
                .setSource(where.getNodeManager().toBuilder().setNodeId(where.getNodeId()))
                .setSize(where.getSize())
                .build(),
            dev.sluice.runtime.rpc.Callbacks.ignoreReply("prefetch of " + id));
  }

  /** Asks this node's manager to bring {@code id} from the node at {@code where}. */
  private void fetch(ObjectId id, SharedMemoryLocation where) {
    String source =
        where.getNodeId().isEmpty()
            ? "an unknown node"
            : "node " + NodeId.fromBytes(where.getNodeId().toByteArray());
    if (!where.hasNodeManager()) {
      throw new ObjectLostException(
          "object "
              + id
              + " is in the object store of "
              + source
              + ", which does not name its node manager, so it cannot be transferred to node "
              + nodeId);
    }
    FetchObjectRequest req =
        FetchObjectRequest.newBuilder()
            .setObjectId(ByteString.copyFrom(id.toBytes()))
            .setSource(where.getNodeManager().toBuilder().setNodeId(where.getNodeId()))
            .setSize(where.getSize())
            .build();
    try {
      NodeManagerServiceGrpc.newBlockingStub(nodeManager)
          .withDeadlineAfter(FETCH_TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .fetchObject(req);
    } catch (StatusRuntimeException e) {
      String described = e.getStatus().getDescription();
      String why =
          described != null && described.contains(id.toString())
              ? described
              : "object "
                  + id
                  + " could not be fetched from "
                  + source
                  + " into node "
                  + nodeId
                  + ": "
                  + e.getStatus();
      throw switch (e.getStatus().getCode()) {
        case RESOURCE_EXHAUSTED -> new ObjectStoreFullException(why);
        case OUT_OF_RANGE -> new ObjectTooLargeException(why);
        default -> new ObjectLostException(why);
      };
    }
  }

  /**
   * Pins object {@code id} and returns a read-only view of its bytes, valid until {@link #release}
   * (the store neither spills nor frees a pinned object).
   *
   * @throws ObjectLostException if this node's store does not have the object
   */
  public MemorySegment pin(ObjectId id) {
    PinObjectReply r;
    PinObjectRequest req =
        PinObjectRequest.newBuilder().setObjectId(ByteString.copyFrom(id.toBytes())).build();
    try {
      r = local != null ? local.pin(req) : blocking().pinObject(req);
    } catch (StatusRuntimeException e) {
      throw new ObjectLostException(
          "object "
              + id
              + " could not be read from the shared-memory "
              + "store of node "
              + nodeId
              + ": "
              + e.getStatus());
    }
    if (!r.getFound()) {
      throw new ObjectLostException(
          "object "
              + id
              + " is not in the shared-memory store of node "
              + nodeId
              + (r.getMessage().isEmpty() ? "" : ": " + r.getMessage()));
    }
    return segment.asSlice(r.getOffset(), r.getSize()).asReadOnly();
  }

  /**
   * Pins object {@code id} and maps its bytes read-only in an arena of their own, for a caller that
   * holds them beyond one read: closing the buffer unmaps them and ends the pin.
   *
   * @throws ObjectLostException if this node's store does not have the object
   */
  public dev.sluice.ObjectBuffer openBuffer(ObjectId id) {
    return openPinned(id, pin(id));
  }

  private dev.sluice.ObjectBuffer openPinned(ObjectId id, MemorySegment pinned) {
    Arena own = Arena.ofShared();
    MemorySegment view;
    try {
      view = viewIn(pinned, own);
    } catch (IOException | RuntimeException e) {
      own.close();
      release(id);
      throw new ObjectLostException(
          "object " + id + " could not be mapped from " + file + ": " + e);
    }
    MappedObjectBuffer buffer =
        new MappedObjectBuffer(
            view,
            own,
            () -> {
              openBuffers.remove(own);
              release(id);
            });
    openBuffers.add(own);
    if (closed) {
      buffer.close();
    }
    return buffer;
  }

  /**
   * {@code pinned} (a slice of this process's mapping of the store) as a read-only segment whose
   * lifetime is {@code own}'s. The slice is re-scoped rather than mapped again: a fresh mapping
   * costs a page fault per page on first read (half the bandwidth of a 64 MiB read here), while the
   * store mapping's pages are already in this process's page tables. Re-scoping is a restricted
   * method; where native access is denied, the range is mapped on its own instead.
   */
  private MemorySegment viewIn(MemorySegment pinned, Arena own) throws IOException {
    if (rescopeAllowed) {
      try {
        return pinned.reinterpret(own, null).asReadOnly();
      } catch (IllegalCallerException e) {
        rescopeAllowed = false;
      }
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return ch.map(
          FileChannel.MapMode.READ_ONLY,
          pinned.address() - segment.address(),
          pinned.byteSize(),
          own);
    }
  }

  /** Ends one {@link #pin} of {@code id}. */
  public void release(ObjectId id) {
    if (local != null) {
      local.release(ByteString.copyFrom(id.toBytes()));
      return;
    }
    NodeManagerServiceGrpc.newStub(nodeManager)
        .releaseObject(
            ReleaseObjectRequest.newBuilder()
                .setObjectId(ByteString.copyFrom(id.toBytes()))
                .build(),
            Callbacks.ignoreReply("release of " + id));
  }

  /** Frees {@code id} in the store: its owner no longer references it. */
  public void delete(ObjectId id) {
    if (local != null) {
      local.delete(
          DeleteObjectsRequest.newBuilder()
              .addObjectIds(ByteString.copyFrom(id.toBytes()))
              .build());
      return;
    }
    NodeManagerServiceGrpc.newStub(nodeManager)
        .deleteObjects(
            DeleteObjectsRequest.newBuilder()
                .addObjectIds(ByteString.copyFrom(id.toBytes()))
                .build(),
            Callbacks.ignoreReply("delete of " + id));
  }

  /** The store's usage. */
  public ObjectStoreStatsReply stats() {
    return local != null
        ? local.stats()
        : blocking().getObjectStoreStats(ObjectStoreStatsRequest.getDefaultInstance());
  }

  private CreateObjectReply create(CreateObjectRequest request) {
    return local != null ? local.create(request) : blocking().createObject(request);
  }

  private NodeManagerServiceGrpc.NodeManagerServiceBlockingStub blocking() {
    return NodeManagerServiceGrpc.newBlockingStub(nodeManager)
        .withDeadlineAfter(RPC_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Unmaps the store; views handed out become invalid (their reads fail). The node manager is told
   * this process's extent is free.
   */
  @Override
  public void close() {
    closed = true;
    if (extents != null) {
      synchronized (extentLock) {
        // An extent asked for ahead and granted after the release below would outlive us.
        takeAskedAheadLocked(2);
      }
      NodeManagerServiceGrpc.newStub(nodeManager)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .reserveExtent(reserve(0), Callbacks.ignoreReply("release of the writer extents"));
      extents.close();
    }
    boolean viewsEnded = StoreFile.endViews(openBuffers);
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
