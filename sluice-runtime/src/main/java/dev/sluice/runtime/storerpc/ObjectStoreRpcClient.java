package dev.sluice.runtime.storerpc;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.ObjectLostException;
import dev.sluice.ObjectStoreFullException;
import dev.sluice.ObjectTooLargeException;
import dev.sluice.SluiceException;
import dev.sluice.WorkerId;
import dev.sluice.runtime.objectstore.ExtentClaim;
import dev.sluice.runtime.objectstore.ExtentGrant;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import dev.sluice.runtime.objectstore.StoreCalls;
import dev.sluice.runtime.objectstore.StoreLocation;
import dev.sluice.runtime.rpc.Callbacks;
import dev.sluice.runtime.rpc.proto.CreateObjectReply;
import dev.sluice.runtime.rpc.proto.CreateObjectRequest;
import dev.sluice.runtime.rpc.proto.DeleteObjectsRequest;
import dev.sluice.runtime.rpc.proto.FetchObjectRequest;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsReply;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsRequest;
import dev.sluice.runtime.rpc.proto.PinObjectReply;
import dev.sluice.runtime.rpc.proto.PinObjectRequest;
import dev.sluice.runtime.rpc.proto.ReleaseObjectRequest;
import dev.sluice.runtime.rpc.proto.ReserveExtentReply;
import dev.sluice.runtime.rpc.proto.ReserveExtentRequest;
import dev.sluice.runtime.rpc.proto.SealObjectReply;
import dev.sluice.runtime.rpc.proto.SealObjectRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The {@link StoreCalls} of one process over its node manager's RPCs ({@code NodeManagerService}):
 * requests built from the store's types, replies turned back into them, and failed calls into the
 * typed errors {@link StoreCalls} documents, naming the object and this node. The process is named
 * to the node manager by its worker id (whose writer extents it frees when the process exits).
 *
 * <p>Threads: thread-safe and stateless; blocking calls must not run on transport threads, and the
 * futures it returns complete on them.
 */
public final class ObjectStoreRpcClient implements StoreCalls {
  private static final long RPC_TIMEOUT_SECONDS = 60;
  private static final long FETCH_TIMEOUT_SECONDS = 600;
  private static final long RELEASE_TIMEOUT_SECONDS = 5;

  private final Channel nodeManager;
  private final NodeId nodeId;
  private final ByteString clientId;

  /**
   * Calls of the node manager of node {@code nodeId} over {@code nodeManager}, for {@code self}.
   */
  public ObjectStoreRpcClient(Channel nodeManager, NodeId nodeId, WorkerId self) {
    this.nodeManager = nodeManager;
    this.nodeId = nodeId;
    this.clientId = ByteString.copyFrom(self.toBytes());
  }

  @Override
  public SharedMemoryStore.Created create(ObjectId id, long size) {
    CreateObjectReply r =
        blocking()
            .createObject(
                CreateObjectRequest.newBuilder().setObjectId(bytes(id)).setSize(size).build());
    return switch (r.getStatus()) {
      case CREATED -> new SharedMemoryStore.Allocated(r.getOffset());
      case EXISTS -> new SharedMemoryStore.Exists();
      case RETRY -> new SharedMemoryStore.Retry();
      case STORE_FULL -> new SharedMemoryStore.Refused(false, r.getMessage());
      case TOO_LARGE -> new SharedMemoryStore.Refused(true, r.getMessage());
      default -> throw new SluiceException("object store refused " + id + ": " + r);
    };
  }

  @Override
  public void seal(ObjectId id) {
    blocking().sealObject(SealObjectRequest.newBuilder().setObjectId(bytes(id)).build());
  }

  @Override
  public PinAnswer pin(ObjectId id) {
    PinObjectReply r;
    try {
      r = blocking().pinObject(PinObjectRequest.newBuilder().setObjectId(bytes(id)).build());
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
    return r.getFound()
        ? PinAnswer.pinned(new SharedMemoryStore.Pinned(r.getOffset(), r.getSize()))
        : PinAnswer.missing(r.getMessage());
  }

  @Override
  public void release(ObjectId id) {
    NodeManagerServiceGrpc.newStub(nodeManager)
        .releaseObject(
            ReleaseObjectRequest.newBuilder().setObjectId(bytes(id)).build(),
            Callbacks.ignoreReply("release of " + id));
  }

  @Override
  public void delete(ObjectId id) {
    NodeManagerServiceGrpc.newStub(nodeManager)
        .deleteObjects(
            DeleteObjectsRequest.newBuilder().addObjectIds(bytes(id)).build(),
            Callbacks.ignoreReply("delete of " + id));
  }

  @Override
  public SharedMemoryStore.Usage usage() {
    ObjectStoreStatsReply r =
        blocking().getObjectStoreStats(ObjectStoreStatsRequest.getDefaultInstance());
    return new SharedMemoryStore.Usage(
        r.getCapacity(), r.getUsed(), r.getObjects(), r.getSpilledBytes(), r.getSpilledObjects());
  }

  @Override
  public CompletableFuture<ExtentGrant> reserveExtent(long minSize) {
    CompletableFuture<ReserveExtentReply> reply = new CompletableFuture<>();
    NodeManagerServiceGrpc.newStub(nodeManager)
        .withDeadlineAfter(RPC_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .reserveExtent(reserve(minSize), Callbacks.into(reply));
    return reply.thenApply(
        r ->
            r.getGranted()
                ? new ExtentGrant(r.getSlot(), r.getGeneration(), r.getOffset(), r.getSize())
                : null);
  }

  @Override
  public CompletableFuture<Void> sealInExtent(ObjectId id, ExtentClaim claim, long size) {
    CompletableFuture<SealObjectReply> reply = new CompletableFuture<>();
    NodeManagerServiceGrpc.newStub(nodeManager)
        .withDeadlineAfter(RPC_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .sealObject(sealRequest(id, claim, size, false), Callbacks.into(reply));
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
                    + Status.fromThrowable(t));
          }
          if (r.getRejected()) {
            throw new ObjectLostException(r.getMessage());
          }
          return null;
        });
  }

  @Override
  public void abortInExtent(ObjectId id, ExtentClaim claim, long size) {
    NodeManagerServiceGrpc.newStub(nodeManager)
        .withDeadlineAfter(RPC_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .sealObject(sealRequest(id, claim, size, true), Callbacks.ignoreReply("abort of " + id));
  }

  private SealObjectRequest sealRequest(ObjectId id, ExtentClaim claim, long size, boolean abort) {
    return SealObjectRequest.newBuilder()
        .setObjectId(bytes(id))
        .setClientId(clientId)
        .setExtentSlot(claim.slot())
        .setExtentGeneration(claim.generation())
        .setOffset(claim.offset())
        .setSize(size)
        .setAbort(abort)
        .build();
  }

  @Override
  public void releaseExtents() {
    NodeManagerServiceGrpc.newStub(nodeManager)
        .withDeadlineAfter(RELEASE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .reserveExtent(reserve(0), Callbacks.ignoreReply("release of the writer extents"));
  }

  private ReserveExtentRequest reserve(long minSize) {
    return ReserveExtentRequest.newBuilder().setClientId(clientId).setMinSize(minSize).build();
  }

  @Override
  public void fetch(ObjectId id, StoreLocation where) {
    try {
      NodeManagerServiceGrpc.newBlockingStub(nodeManager)
          .withDeadlineAfter(FETCH_TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .fetchObject(fetchRequest(id, where));
    } catch (StatusRuntimeException e) {
      String described = e.getStatus().getDescription();
      String why =
          described != null && described.contains(id.toString())
              ? described
              : "object "
                  + id
                  + " could not be fetched from "
                  + where.describeNode()
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

  @Override
  public void prefetch(ObjectId id, StoreLocation where) {
    NodeManagerServiceGrpc.newStub(nodeManager)
        .fetchObject(fetchRequest(id, where), Callbacks.ignoreReply("prefetch of " + id));
  }

  private static FetchObjectRequest fetchRequest(ObjectId id, StoreLocation where) {
    return FetchObjectRequest.newBuilder()
        .setObjectId(bytes(id))
        .setSource(StoreLocations.nodeManager(where))
        .setSize(where.size())
        .build();
  }

  private NodeManagerServiceGrpc.NodeManagerServiceBlockingStub blocking() {
    return NodeManagerServiceGrpc.newBlockingStub(nodeManager)
        .withDeadlineAfter(RPC_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private static ByteString bytes(ObjectId id) {
    return ByteString.copyFrom(id.toBytes());
  }
}
