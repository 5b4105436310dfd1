package dev.sluice.runtime.objectmanager;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.runtime.objectmanager.ObjectTransferException.Kind;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.PullObjectRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's object manager (Ray's object manager), owned by the node manager: moves objects between
 * the shared-memory stores of nodes, so that a process can read an object produced on another node.
 * Both ends run here: {@link #fetch} pulls an object from the node manager that holds it into this
 * node's store, and {@link #pullObject} serves this store's objects to other nodes' object
 * managers, in chunks. The node manager's gRPC service calls both; gRPC itself stays in the stream
 * adaptors ({@link ChunkPullStream}, {@link ChunkSendStream}).
 *
 * <p>Pulls: concurrent fetches of one object share one pull and complete together. The bytes of
 * pulls in progress are bounded ({@code maxInFlightBytes}): a pull that would exceed the bound
 * waits its turn, and one larger than the bound runs alone. A pulled object is a secondary copy in
 * this store: dropped rather than spilled when room is needed, since it can be pulled again. Its
 * owner's delete reaches only the owner's node, so such copies are freed that way, by the store's
 * eviction, not by reference counting.
 *
 * <p>Concurrency and ownership:
 *
 * <ul>
 *   <li>{@link #fetch} and {@link #pullObject} run on transport threads and never block: they take
 *       only this manager's lock and the store's.
 *   <li>The table of running pulls, the set of served streams and the counters are guarded by
 *       {@code this}. A pull is in the table from its first fetch until its thread ends it; it
 *       leaves the table before its callers are answered, so a later fetch finds the sealed copy or
 *       starts a new pull.
 *   <li>Each pull runs on a virtual thread of this manager's executor, which alone creates, writes,
 *       seals or deletes the pull's local entry and waits for the in-flight bound and for store
 *       room (see {@link ObjectPull}).
 *   <li>Each served stream pins its object until the stream ends (completed, cancelled, failed, or
 *       closed here), and is driven by gRPC readiness (see {@link ChunkSendStream}).
 *   <li>{@link #close} fails served streams, interrupts pull threads (which cancel their calls and
 *       delete their partial objects) and waits for them; the owner closes the store after.
 * </ul>
 */
public final class ObjectManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ObjectManager.class);

  /** Default bound of the bytes of pulls in progress. */
  public static final long DEFAULT_MAX_IN_FLIGHT_BYTES = 256L << 20;

  /** Largest chunk of a pull. */
  public static final int MAX_CHUNK_BYTES = 4 << 20;

  private static final int MIN_CHUNK_BYTES = 4 << 10;
  private static final int MESSAGE_OVERHEAD_BYTES = 1 << 10;

  /** Counters, for stats and tests. */
  public record Stats(
      long pullsServed,
      long servingBytes,
      long peakServingBytes,
      long pulls,
      long inFlightBytes,
      long peakInFlightBytes,
      long pullsServedOverDataChannel) {}

  private final NodeId nodeId;
  private final SharedMemoryStore store;
  private final ChannelPool channels;
  private final InFlightBudget budget;
  private final int chunkBytes;
  private final ExecutorService pullThreads;

  @GuardedBy("this")
  private final Map<ObjectId, ObjectPull> pulls = new HashMap<>();

  @GuardedBy("this")
  private final Set<ChunkSendStream> senders = new LinkedHashSet<>();

  private final PullContext context = new PullContext();
  private volatile LongConsumer chunkListener = written -> {};
  private volatile ObjectDataServer dataServer;
  private volatile byte[] dataToken;
  private volatile java.util.function.Function<Address, java.net.InetSocketAddress> dataAddresses =
      source -> null;

  @GuardedBy("this")
  private long pullsServed;

  @GuardedBy("this")
  private long pullsServedOverDataChannel;

  @GuardedBy("this")
  private long servingBytes;

  @GuardedBy("this")
  private long peakServingBytes;

  @GuardedBy("this")
  private long pullsStarted;

  @GuardedBy("this")
  private boolean closed;

  /**
   * The object manager of node {@code nodeId} over {@code store}; it reaches other node managers
   * through {@code channels}, keeps at most {@code maxInFlightBytes} of pulls in progress, and asks
   * for chunks that fit in {@code maxMessageBytes} (the transport's message limit).
   */
  public ObjectManager(
      NodeId nodeId,
      SharedMemoryStore store,
      ChannelPool channels,
      long maxInFlightBytes,
      int maxMessageBytes) {
    this.nodeId = nodeId;
    this.store = store;
    this.channels = channels;
    this.budget = new InFlightBudget(maxInFlightBytes);
    this.chunkBytes = chunkBytesFor(maxMessageBytes);
    this.pullThreads =
        Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("sluice-object-pull-", 0).factory());
  }

  private static int chunkBytesFor(int maxMessageBytes) {
    return Math.max(
        MIN_CHUNK_BYTES, Math.min(MAX_CHUNK_BYTES, maxMessageBytes - MESSAGE_OVERHEAD_BYTES));
  }

  /**
   * Opens the bulk data channel ({@link ObjectDataServer}) on {@code bindHost}: objects are then
   * served and pulled over plain TCP with {@code sendfile}, the cluster token checked on each
   * connection; {@code dataAddresses} gives the data channel of a source node manager, or null when
   * unknown (the pull then uses gRPC). Returns the channel's port. Without this call (a cluster
   * with TLS) every pull uses gRPC.
   */
  public int openDataChannel(
      String bindHost,
      String token,
      java.util.function.Function<Address, java.net.InetSocketAddress> dataAddresses)
      throws java.io.IOException {
    this.dataToken = token.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    this.dataAddresses = dataAddresses;
    this.dataServer =
        new ObjectDataServer(
            store,
            bindHost,
            token,
            new ObjectDataServer.ServeListener() {
              @Override
              public void started(long bytes) {
                synchronized (ObjectManager.this) {
                  pullsServed++;
                  pullsServedOverDataChannel++;
                  servingBytes += bytes;
                  peakServingBytes = Math.max(peakServingBytes, servingBytes);
                }
              }

              @Override
              public void ended(long bytes) {
                synchronized (ObjectManager.this) {
                  servingBytes -= bytes;
                }
              }
            });
    return dataServer.port();
  }

  /**
   * {@code FetchObject}: brings object {@code id} of {@code size} bytes into this node's store from
   * the node manager {@code source}; completes with true if it was already here, once the object is
   * sealed in this node's store. Fails with an {@link ObjectTransferException} whose message names
   * the object and the source.
   */
  public CompletableFuture<Boolean> fetch(ObjectId id, Address source, long size) {
    if (store.contains(id)) {
      return CompletableFuture.completedFuture(true);
    }
    if (size <= 0) {
      return CompletableFuture.failedFuture(
          new ObjectTransferException(
              Kind.INVALID_ARGUMENT, "fetch of object " + id + " needs its size, got " + size));
    }
    synchronized (this) {
      if (closed) {
        return CompletableFuture.failedFuture(
            new ObjectTransferException(
                Kind.UNAVAILABLE,
                "cannot fetch object " + id + ": node " + nodeId + " is shutting down"));
      }
      ObjectPull pull = pulls.get(id);
      if (pull == null) {
        pull = new ObjectPull(id, source, size, context);
        pulls.put(id, pull);
        pullThreads.execute(pull);
      }
      return pull.result();
    }
  }

  /**
   * {@code PullObject}: streams a sealed object of this store to another node over {@code out},
   * pinned meanwhile.
   */
  public void pullObject(PullObjectRequest req, ChunkSendStream out) {
    ObjectId id;
    SharedMemoryStore.Pinned pinned;
    try {
      id = ObjectId.fromBytes(req.getObjectId().toByteArray());
      pinned = store.pin(id);
    } catch (RuntimeException e) {
      out.abort(
          new ObjectTransferException(
              Kind.NOT_FOUND,
              "object could not be read from the object "
                  + "store of node "
                  + nodeId
                  + ": "
                  + e.getMessage()));
      return;
    }
    if (pinned == null) {
      out.abort(
          new ObjectTransferException(
              Kind.NOT_FOUND,
              "object " + id + " is not in the object " + "store of node " + nodeId));
      return;
    }
    int chunk =
        req.getMaxChunkBytes() > 0
            ? Math.max(MIN_CHUNK_BYTES, Math.min(MAX_CHUNK_BYTES, req.getMaxChunkBytes()))
            : MAX_CHUNK_BYTES;
    out.bind(id, store.segment().asSlice(pinned.offset(), pinned.size()), chunk, this::sendEnded);
    boolean accepted;
    synchronized (this) {
      accepted = !closed;
      if (accepted) {
        senders.add(out);
        pullsServed++;
        servingBytes += pinned.size();
        peakServingBytes = Math.max(peakServingBytes, servingBytes);
      }
    }
    if (!accepted) {
      // releases the pin (sendEnded)
      out.abort(
          new ObjectTransferException(Kind.UNAVAILABLE, "node " + nodeId + " is shutting down"));
      return;
    }
    log.debug(
        "serving object {} ({} bytes) to node {}",
        id,
        pinned.size(),
        req.getRequesterNodeId().isEmpty()
            ? "?"
            : NodeId.fromBytes(req.getRequesterNodeId().toByteArray()));
    out.start();
  }

  private void sendEnded(ChunkSendStream sender) {
    synchronized (this) {
      if (senders.remove(sender)) {
        servingBytes -= sender.size();
      }
    }
    store.release(sender.objectId());
  }

  /** Current counters. */
  public synchronized Stats stats() {
    return new Stats(
        pullsServed,
        servingBytes,
        peakServingBytes,
        pullsStarted,
        budget.inFlight(),
        budget.peak(),
        pullsServedOverDataChannel);
  }

  /** Runs {@code listener} on the pull thread after each chunk written (for tests). */
  void onChunkWritten(LongConsumer listener) {
    this.chunkListener = listener;
  }

  /** Ends served streams and running pulls (their partial objects are deleted). */
  @Override
  public void close() {
    List<ChunkSendStream> serving;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      serving = new ArrayList<>(senders);
    }
    ObjectTransferException shutdown =
        new ObjectTransferException(Kind.UNAVAILABLE, "node " + nodeId + " is shutting down");
    serving.forEach(s -> s.abort(shutdown));
    ObjectDataServer data = dataServer;
    if (data != null) {
      data.close();
    }
    pullThreads.shutdownNow();
    try {
      if (!pullThreads.awaitTermination(5, TimeUnit.SECONDS)) {
        log.warn("object pulls of node {} did not stop within 5 s", nodeId);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** What pulls see of this manager. */
  private final class PullContext implements ObjectPull.Context {
    @Override
    public SharedMemoryStore store() {
      return store;
    }

    @Override
    public ChannelPool channels() {
      return channels;
    }

    @Override
    public InFlightBudget budget() {
      return budget;
    }

    @Override
    public NodeId nodeId() {
      return nodeId;
    }

    @Override
    public int chunkBytes() {
      return chunkBytes;
    }

    @Override
    public LongConsumer chunkListener() {
      return chunkListener;
    }

    @Override
    public java.net.InetSocketAddress dataAddress(Address source) {
      return dataServer == null ? null : dataAddresses.apply(source);
    }

    @Override
    public byte[] dataToken() {
      return dataToken;
    }

    @Override
    public void pullStarted(ObjectPull pull) {
      synchronized (ObjectManager.this) {
        pullsStarted++;
      }
    }

    @Override
    public void pullEnded(ObjectPull pull) {
      synchronized (ObjectManager.this) {
        pulls.remove(pull.objectId(), pull);
      }
    }
  }
}
