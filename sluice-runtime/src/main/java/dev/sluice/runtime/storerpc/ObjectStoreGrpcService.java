package dev.sluice.runtime.storerpc;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.runtime.objectstore.ExtentGrant;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import dev.sluice.runtime.rpc.proto.CreateObjectReply;
import dev.sluice.runtime.rpc.proto.CreateObjectRequest;
import dev.sluice.runtime.rpc.proto.DeleteObjectsReply;
import dev.sluice.runtime.rpc.proto.DeleteObjectsRequest;
import dev.sluice.runtime.rpc.proto.ObjectRow;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsReply;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsRequest;
import dev.sluice.runtime.rpc.proto.PinObjectReply;
import dev.sluice.runtime.rpc.proto.PinObjectRequest;
import dev.sluice.runtime.rpc.proto.ReleaseObjectReply;
import dev.sluice.runtime.rpc.proto.ReleaseObjectRequest;
import dev.sluice.runtime.rpc.proto.ReserveExtentReply;
import dev.sluice.runtime.rpc.proto.ReserveExtentRequest;
import dev.sluice.runtime.rpc.proto.SealObjectReply;
import dev.sluice.runtime.rpc.proto.SealObjectRequest;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The object store calls of the node manager's service over a {@link SharedMemoryStore}: the node
 * manager's gRPC service hands them here, and each turns its request into a call of the store and
 * the store's answer into its reply. A writer is named to the store by the hex form of its worker
 * id.
 *
 * <p>Threads: handlers run on transport threads; thread-safe, and never block on anything but the
 * store's lock.
 */
public final class ObjectStoreGrpcService {
  private final SharedMemoryStore store;

  /** The service of {@code store}. */
  public ObjectStoreGrpcService(SharedMemoryStore store) {
    this.store = store;
  }

  /** {@code CreateObject}. */
  public void createObject(CreateObjectRequest req, StreamObserver<CreateObjectReply> out) {
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
    reply(out, b.build());
  }

  /** {@code SealObject}: of a created object, of an object written in an extent, or an abort. */
  public void sealObject(SealObjectRequest req, StreamObserver<SealObjectReply> out) {
    reply(out, seal(req));
  }

  private SealObjectReply seal(SealObjectRequest req) {
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
  public void reserveExtent(ReserveExtentRequest req, StreamObserver<ReserveExtentReply> out) {
    String client = clientKey(req.getClientId());
    if (req.getMinSize() <= 0) {
      store.releaseClient(client);
      reply(out, ReserveExtentReply.getDefaultInstance());
      return;
    }
    ExtentGrant g = store.grantExtent(client, req.getMinSize());
    if (g == null) {
      reply(out, ReserveExtentReply.getDefaultInstance());
      return;
    }
    reply(
        out,
        ReserveExtentReply.newBuilder()
            .setGranted(true)
            .setSlot(g.slot())
            .setGeneration(g.generation())
            .setOffset(g.offset())
            .setSize(g.size())
            .build());
  }

  /** The process {@code workerId} is gone: frees its extents (see {@link SharedMemoryStore}). */
  public void releaseClient(ByteString workerId) {
    store.releaseClient(clientKey(workerId));
  }

  private static String clientKey(ByteString workerId) {
    return HexFormat.of().formatHex(workerId.toByteArray());
  }

  /** {@code PinObject}: not found (with the reason, if any) when the store cannot serve it. */
  public void pinObject(PinObjectRequest req, StreamObserver<PinObjectReply> out) {
    PinObjectReply.Builder b = PinObjectReply.newBuilder();
    try {
      SharedMemoryStore.Pinned p = store.pin(id(req.getObjectId()));
      if (p != null) {
        b.setFound(true).setOffset(p.offset()).setSize(p.size());
      }
    } catch (RuntimeException e) {
      b.setFound(false).setMessage(String.valueOf(e.getMessage()));
    }
    reply(out, b.build());
  }

  /** {@code ReleaseObject}. */
  public void releaseObject(ReleaseObjectRequest req, StreamObserver<ReleaseObjectReply> out) {
    store.release(id(req.getObjectId()));
    reply(out, ReleaseObjectReply.getDefaultInstance());
  }

  /** {@code DeleteObjects}. */
  public void deleteObjects(DeleteObjectsRequest req, StreamObserver<DeleteObjectsReply> out) {
    for (ByteString id : req.getObjectIdsList()) {
      store.delete(id(id));
    }
    reply(out, DeleteObjectsReply.getDefaultInstance());
  }

  /** {@code GetObjectStoreStats}. */
  public void getObjectStoreStats(
      ObjectStoreStatsRequest req, StreamObserver<ObjectStoreStatsReply> out) {
    SharedMemoryStore.Usage u = store.usage();
    reply(
        out,
        ObjectStoreStatsReply.newBuilder()
            .setCapacity(u.capacity())
            .setUsed(u.used())
            .setObjects(u.objects())
            .setSpilledBytes(u.spilledBytes())
            .setSpilledObjects(u.spilledObjects())
            .build());
  }

  private static ObjectId id(ByteString bytes) {
    return ObjectId.fromBytes(bytes.toByteArray());
  }

  private static <T> void reply(StreamObserver<T> out, T value) {
    out.onNext(value);
    out.onCompleted();
  }

  /** Every object of the store as state API rows of node {@code nodeId}. */
  public List<ObjectRow> objectRows(ByteString nodeId) {
    List<ObjectRow> out = new ArrayList<>();
    for (SharedMemoryStore.Entry e : store.entries()) {
      out.add(
          ObjectRow.newBuilder()
              .setObjectId(ByteString.copyFrom(e.id().toBytes()))
              .setNodeId(nodeId)
              .setSizeBytes(e.size())
              .setState(e.state())
              .setPinned(e.pins())
              .build());
    }
    return out;
  }
}
