package dev.sluice.runtime.objectstore;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.proto.CreateObjectReply;
import dev.sluice.runtime.rpc.proto.CreateObjectRequest;
import dev.sluice.runtime.rpc.proto.DeleteObjectsRequest;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsReply;
import dev.sluice.runtime.rpc.proto.PinObjectReply;
import dev.sluice.runtime.rpc.proto.PinObjectRequest;
import dev.sluice.runtime.rpc.proto.ReserveExtentReply;
import dev.sluice.runtime.rpc.proto.ReserveExtentRequest;
import dev.sluice.runtime.rpc.proto.SealObjectReply;
import dev.sluice.runtime.rpc.proto.SealObjectRequest;

/**
 * The object store calls of the node manager's service as plain methods over a {@link
 * SharedMemoryStore}: the node manager's RPC handlers delegate here, and a process that hosts the
 * node manager (an embedded driver) calls them directly instead of over loopback. Thread-safe;
 * never blocks on anything but the store's lock.
 */
public final class ObjectStoreService {
  private final SharedMemoryStore store;

  /** The service of {@code store}. */
  public ObjectStoreService(SharedMemoryStore store) {
    this.store = store;
  }

  /** The store served. */
  public SharedMemoryStore store() {
    return store;
  }

  /** {@code CreateObject}. */
  public CreateObjectReply create(CreateObjectRequest req) {
    CreateObjectReply.Builder b = CreateObjectReply.newBuilder();
    switch (store.create(id(req.getObjectId()), req.getSize())) {
      case SharedMemoryStore.Allocated a ->
          b.setStatus(CreateObjectReply.Status.CREATED).setOffset(a.offset());
      case SharedMemoryStore.Exists e -> b.setStatus(CreateObjectReply.Status.EXISTS);
      case SharedMemoryStore.Retry r -> b.setStatus(CreateObjectReply.Status.RETRY);
      case SharedMemoryStore.Refused r ->
          b.setStatus(
                  r.tooLarge()
                      ? CreateObjectReply.Status.TOO_LARGE
                      : CreateObjectReply.Status.STORE_FULL)
              .setMessage(r.message());
    }
    return b.build();
  }

  /** {@code SealObject}: of a created object, of an object written in an extent, or an abort. */
  public SealObjectReply seal(SealObjectRequest req) {
    if (req.getExtentGeneration() == 0) {
      store.seal(id(req.getObjectId()));
      return SealObjectReply.getDefaultInstance();
    }
    String client = clientKey(req.getClientId());
    if (req.getAbort()) {
      store.abortInExtent(
          client, req.getExtentSlot(), req.getExtentGeneration(), req.getOffset(), req.getSize());
      return SealObjectReply.getDefaultInstance();
    }
    ObjectId id = id(req.getObjectId());
    if (store.sealInExtent(
            id,
            client,
            req.getExtentSlot(),
            req.getExtentGeneration(),
            req.getOffset(),
            req.getSize())
        == SharedMemoryStore.ExtentSeal.REJECTED) {
      return SealObjectReply.newBuilder()
          .setRejected(true)
          .setMessage(
              "object "
                  + id
                  + " was written in extent "
                  + req.getExtentSlot()
                  + "/"
                  + req.getExtentGeneration()
                  + " of the store, which the node no longer knows (its writer was declared gone)")
          .build();
    }
    return SealObjectReply.getDefaultInstance();
  }

  /** {@code ReserveExtent}: a new writer extent, or (min size 0) the client's release. */
  public ReserveExtentReply reserveExtent(ReserveExtentRequest req) {
    String client = clientKey(req.getClientId());
    if (req.getMinSize() <= 0) {
      store.releaseClient(client);
      return ReserveExtentReply.getDefaultInstance();
    }
    WriterExtents.Grant g = store.grantExtent(client, req.getMinSize());
    if (g == null) {
      return ReserveExtentReply.getDefaultInstance();
    }
    return ReserveExtentReply.newBuilder()
        .setGranted(true)
        .setSlot(g.slot())
        .setGeneration(g.generation())
        .setOffset(g.offset())
        .setSize(g.size())
        .build();
  }

  /** The process {@code workerId} is gone: frees its extents (see {@link SharedMemoryStore}). */
  public void releaseClient(ByteString workerId) {
    store.releaseClient(clientKey(workerId));
  }

  private static String clientKey(ByteString workerId) {
    return java.util.HexFormat.of().formatHex(workerId.toByteArray());
  }

  /** {@code PinObject}: not found (with the reason, if any) when the store cannot serve it. */
  public PinObjectReply pin(PinObjectRequest req) {
    PinObjectReply.Builder b = PinObjectReply.newBuilder();
    try {
      SharedMemoryStore.Pinned p = store.pin(id(req.getObjectId()));
      if (p != null) {
        b.setFound(true).setOffset(p.offset()).setSize(p.size());
      }
    } catch (RuntimeException e) {
      b.setFound(false).setMessage(String.valueOf(e.getMessage()));
    }
    return b.build();
  }

  /** {@code ReleaseObject}. */
  public void release(ByteString objectId) {
    store.release(id(objectId));
  }

  /** {@code DeleteObjects}. */
  public void delete(DeleteObjectsRequest req) {
    for (ByteString id : req.getObjectIdsList()) {
      store.delete(id(id));
    }
  }

  /** {@code GetObjectStoreStats}. */
  public ObjectStoreStatsReply stats() {
    SharedMemoryStore.Usage u = store.usage();
    return ObjectStoreStatsReply.newBuilder()
        .setCapacity(u.capacity())
        .setUsed(u.used())
        .setObjects(u.objects())
        .setSpilledBytes(u.spilledBytes())
        .setSpilledObjects(u.spilledObjects())
        .build();
  }

  private static ObjectId id(ByteString bytes) {
    return ObjectId.fromBytes(bytes.toByteArray());
  }
}
