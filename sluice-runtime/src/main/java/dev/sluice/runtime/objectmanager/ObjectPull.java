package dev.sluice.runtime.objectmanager;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.runtime.objectmanager.ObjectTransferException.Kind;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectChunk;
import dev.sluice.runtime.rpc.proto.PullObjectRequest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One transfer of an object from another node's store into this node's store, run on a pull thread
 * of the {@link ObjectManager}. That thread alone owns the local entry: it waits for its share of
 * the in-flight budget, creates the entry (a secondary copy), writes each chunk at its offset
 * straight into the mapped store, and seals the entry, or deletes it on any failure.
 *
 * <p>Over gRPC the chunks come through a {@link ChunkPullStream}, which asks for {@link #PREFETCH}
 * chunks up front; this thread asks for one more after each chunk is written, so a slow writer
 * holds at most that many chunks on the heap. A failure completes {@link #result} with an {@link
 * ObjectTransferException} naming the object, the source and this node.
 */
final class ObjectPull implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ObjectPull.class);
  private static final int PREFETCH = 2;
  private static final long CHUNK_TIMEOUT_SECONDS = 60;
  private static final long CREATE_RETRY_MILLIS = 10;

  /** What the pull needs from its manager. */
  interface Context {
    SharedMemoryStore store();

    ChannelPool channels();

    InFlightBudget budget();

    NodeId nodeId();

    int chunkBytes();

    /** Called on the pull thread after each chunk is written, with the bytes written so far. */
    LongConsumer chunkListener();

    /** The data channel of node manager {@code source}, or null: pull over gRPC. */
    java.net.InetSocketAddress dataAddress(Address source);

    /** The cluster token, presented on data channel connections. */
    byte[] dataToken();

    /** The pull reached the source. */
    void pullStarted(ObjectPull pull);

    /** The pull ended; called before {@link #result} completes. */
    void pullEnded(ObjectPull pull);
  }

  private final ObjectId id;
  private final Address source;
  private final long size;
  private final Context ctx;
  private final CompletableFuture<Boolean> result = new CompletableFuture<>();

  ObjectPull(ObjectId id, Address source, long size, Context ctx) {
    this.id = id;
    this.source = source;
    this.size = size;
    this.ctx = ctx;
  }

  ObjectId objectId() {
    return id;
  }

  /** Completes with true if the store already had the object, false once pulled and sealed. */
  CompletableFuture<Boolean> result() {
    return result;
  }

  @Override
  public void run() {
    boolean alreadyLocal = false;
    ObjectTransferException failure = null;
    try {
      alreadyLocal = transfer();
    } catch (InterruptedException e) {
      failure =
          new ObjectTransferException(
              Kind.UNAVAILABLE,
              "the pull of object "
                  + id
                  + " from "
                  + describeSource()
                  + " was abandoned: node "
                  + ctx.nodeId()
                  + " is shutting down");
    } catch (ObjectTransferException e) {
      failure = e;
    } catch (RuntimeException e) {
      failure =
          new ObjectTransferException(
              Kind.INTERNAL,
              "the pull of object " + id + " from " + describeSource() + " failed: " + e,
              e);
    }
    ctx.pullEnded(this);
    if (failure != null) {
      log.warn("{}: {}", failure.kind(), failure.getMessage());
      result.completeExceptionally(failure);
    } else {
      result.complete(alreadyLocal);
    }
  }

  /** True if nothing had to be pulled. */
  private boolean transfer() throws InterruptedException {
    SharedMemoryStore store = ctx.store();
    if (store.contains(id)) {
      return true;
    }
    ctx.budget().acquire(size);
    try {
      long offset = allocate(store);
      if (offset < 0) {
        return true;
      }
      boolean sealed = false;
      try {
        receive(store, offset);
        store.seal(id);
        sealed = true;
      } finally {
        if (!sealed) {
          store.delete(id);
        }
      }
      return false;
    } finally {
      ctx.budget().release(size);
    }
  }

  /** The offset of the new local entry, or -1 if a sealed copy is already there. */
  private long allocate(SharedMemoryStore store) throws InterruptedException {
    while (true) {
      switch (store.create(id, size, true)) {
        case SharedMemoryStore.Allocated a -> {
          return a.offset();
        }
        case SharedMemoryStore.Exists e -> {
          return -1;
        }
        case SharedMemoryStore.Retry r -> Thread.sleep(CREATE_RETRY_MILLIS);
        case SharedMemoryStore.Refused r ->
            throw new ObjectTransferException(
                r.tooLarge() ? Kind.TOO_LARGE : Kind.STORE_FULL,
                "cannot pull object "
                    + id
                    + " from "
                    + describeSource()
                    + " into node "
                    + ctx.nodeId()
                    + ": "
                    + r.message());
      }
    }
  }

  private void receive(SharedMemoryStore store, long offset) throws InterruptedException {
    java.net.InetSocketAddress data = ctx.dataAddress(source);
    if (data != null) {
      receiveRaw(store, offset, data);
      return;
    }
    PullObjectRequest req =
        PullObjectRequest.newBuilder()
            .setObjectId(ByteString.copyFrom(id.toBytes()))
            .setMaxChunkBytes(ctx.chunkBytes())
            .setRequesterNodeId(ByteString.copyFrom(ctx.nodeId().toBytes()))
            .build();
    ctx.pullStarted(this);
    ChunkPullStream stream = ChunkPullStream.open(ctx.channels(), source, req, PREFETCH);
    boolean complete = false;
    try {
      long received = 0;
      while (true) {
        ChunkPullStream.Next m = stream.next(CHUNK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (m == null) {
          throw lost(
              Kind.UNAVAILABLE,
              "no data for "
                  + CHUNK_TIMEOUT_SECONDS
                  + " s after "
                  + received
                  + " of "
                  + size
                  + " bytes");
        }
        switch (m) {
          case ChunkPullStream.Next.End end -> {
            if (received != size) {
              throw lost(
                  Kind.DATA_LOSS, "the stream ended after " + received + " of " + size + " bytes");
            }
            complete = true;
            return;
          }
          case ChunkPullStream.Next.Failed f ->
              throw lost(f.notFound() ? Kind.NOT_FOUND : Kind.UNAVAILABLE, f.detail());
          case ChunkPullStream.Next.Chunk c -> {
            received = write(store, offset, received, c.chunk());
            ctx.chunkListener().accept(received);
            stream.request(1);
          }
        }
      }
    } finally {
      if (!complete) {
        stream.cancel("pull of object " + id + " abandoned");
      }
    }
  }

  /**
   * Pulls the object over the source's data channel ({@link ObjectDataServer}): the bytes are read
   * from the socket straight into this store's mapping.
   */
  private void receiveRaw(SharedMemoryStore store, long offset, java.net.InetSocketAddress data) {
    ctx.pullStarted(this);
    try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(data)) {
      ObjectDataServer.writeField(c, ctx.dataToken());
      ObjectDataServer.writeField(c, id.toBytes());
      java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(8);
      ObjectDataServer.readFully(c, header);
      long n = header.getLong(0);
      if (n < 0) {
        throw lost(Kind.NOT_FOUND, "the source's store does not have it");
      }
      if (n != size) {
        throw lost(Kind.DATA_LOSS, "the source has " + n + " bytes, the reference says " + size);
      }
      long received = 0;
      long reported = 0;
      while (received < size) {
        long len = Math.min(size - received, 1L << 30);
        java.nio.ByteBuffer into = store.segment().asSlice(offset + received, len).asByteBuffer();
        while (into.hasRemaining()) {
          if (c.read(into) < 0) {
            throw lost(
                Kind.UNAVAILABLE,
                "the data connection closed after "
                    + (received + into.position())
                    + " of "
                    + size
                    + " bytes");
          }
          long now = received + into.position();
          if (now - reported >= ctx.chunkBytes() || now == size) {
            ctx.chunkListener().accept(now);
            reported = now;
          }
        }
        received += len;
      }
    } catch (java.io.IOException e) {
      throw lost(Kind.UNAVAILABLE, "data channel " + data + ": " + e);
    }
  }

  /** Writes {@code chunk} after {@code received} bytes; returns the new count. */
  private long write(SharedMemoryStore store, long offset, long received, ObjectChunk chunk) {
    long len = chunk.getData().size();
    if (received == 0 && chunk.getTotalSize() != size) {
      throw lost(
          Kind.DATA_LOSS,
          "the source has " + chunk.getTotalSize() + " bytes, the reference says " + size);
    }
    if (chunk.getOffset() != received || received + len > size) {
      throw lost(
          Kind.DATA_LOSS,
          "chunk ["
              + chunk.getOffset()
              + ", +"
              + len
              + ") does not follow the "
              + received
              + " bytes received of "
              + size);
    }
    chunk.getData().copyTo(store.segment().asSlice(offset + received, len).asByteBuffer());
    return received + len;
  }

  private ObjectTransferException lost(Kind kind, String why) {
    return new ObjectTransferException(
        kind,
        "object "
            + id
            + " could not be pulled from "
            + describeSource()
            + " into node "
            + ctx.nodeId()
            + ": "
            + why);
  }

  private String describeSource() {
    String node =
        source.getNodeId().isEmpty() ? "an unknown node" : "node " + Addresses.nodeId(source);
    return node + " (node manager " + Addresses.target(source) + ")";
  }
}
