package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.objectmanager.ChunkSendStream;
import dev.sluice.runtime.objectmanager.ObjectManager;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.ActorLifetime;
import dev.sluice.runtime.rpc.proto.CancelLeaseReply;
import dev.sluice.runtime.rpc.proto.CancelLeaseRequest;
import dev.sluice.runtime.rpc.proto.CreateObjectReply;
import dev.sluice.runtime.rpc.proto.CreateObjectRequest;
import dev.sluice.runtime.rpc.proto.DeleteObjectsReply;
import dev.sluice.runtime.rpc.proto.DeleteObjectsRequest;
import dev.sluice.runtime.rpc.proto.FetchObjectReply;
import dev.sluice.runtime.rpc.proto.FetchObjectRequest;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.NodeStatsReply;
import dev.sluice.runtime.rpc.proto.NodeStatsRequest;
import dev.sluice.runtime.rpc.proto.ObjectChunk;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsReply;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsRequest;
import dev.sluice.runtime.rpc.proto.PinObjectReply;
import dev.sluice.runtime.rpc.proto.PinObjectRequest;
import dev.sluice.runtime.rpc.proto.PullObjectRequest;
import dev.sluice.runtime.rpc.proto.RegisterDriverReply;
import dev.sluice.runtime.rpc.proto.RegisterDriverRequest;
import dev.sluice.runtime.rpc.proto.RegisterWorkerReply;
import dev.sluice.runtime.rpc.proto.RegisterWorkerRequest;
import dev.sluice.runtime.rpc.proto.ReleaseObjectReply;
import dev.sluice.runtime.rpc.proto.ReleaseObjectRequest;
import dev.sluice.runtime.rpc.proto.ReserveExtentReply;
import dev.sluice.runtime.rpc.proto.ReserveExtentRequest;
import dev.sluice.runtime.rpc.proto.ReturnWorkerReply;
import dev.sluice.runtime.rpc.proto.ReturnWorkerRequest;
import dev.sluice.runtime.rpc.proto.SealObjectReply;
import dev.sluice.runtime.rpc.proto.SealObjectRequest;
import dev.sluice.runtime.rpc.proto.WorkerBlockedReply;
import dev.sluice.runtime.rpc.proto.WorkerBlockedRequest;
import dev.sluice.runtime.rpc.proto.WorkerInfo;
import dev.sluice.runtime.storerpc.ObjectStoreGrpcService;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node manager's gRPC service ({@code NodeManagerService}): turns its calls into calls of the
 * {@link LeaseDispatcher} (leases and workers), the {@link NodeNotices} (drivers), the {@link
 * ObjectStoreGrpcService} (store RPCs) and the {@link ObjectManager} (object transfers). Protobuf
 * stays at this edge where the callee takes plain values.
 *
 * <p>It also owns the node manager's gRPC server ({@link #start}, {@link #stop}).
 *
 * <p>Threads: handlers run on transport threads; only {@code getNodeStats} takes the node manager's
 * lock here (the callees take it themselves), and no reply is sent under it. {@link #start} and
 * {@link #stop} run on the node manager's starting and closing threads.
 */
final class NodeManagerGrpcService extends NodeManagerServiceGrpc.NodeManagerServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(NodeManagerGrpcService.class);

  private final NodeConfig config;
  private final String advertisedHost;
  private final Object lock;
  private final WorkerPool pool;
  private final LeaseDispatcher dispatcher;
  private final NodeNotices notices;
  private final ObjectStoreGrpcService objectStoreService;
  private final ObjectManager objectManager;
  private volatile Server server;

  NodeManagerGrpcService(
      NodeConfig config,
      String advertisedHost,
      Object lock,
      WorkerPool pool,
      LeaseDispatcher dispatcher,
      NodeNotices notices,
      ObjectStoreGrpcService objectStoreService,
      ObjectManager objectManager) {
    this.config = config;
    this.advertisedHost = advertisedHost;
    this.lock = lock;
    this.pool = pool;
    this.dispatcher = dispatcher;
    this.notices = notices;
    this.objectStoreService = objectStoreService;
    this.objectManager = objectManager;
  }

  /** Serves this service at {@code bindHost:port} (port 0 picks a free one). */
  void start(RpcFactory rpc, String bindHost, int port) throws IOException {
    server = rpc.startServer(bindHost, port, List.of(this));
  }

  /** The port the service is served on. */
  int port() {
    return server.getPort();
  }

  /** Stops serving, waiting briefly for calls in flight. */
  void stop() {
    RpcFactory.shutdownQuietly(server);
  }

  @Override
  public void registerWorker(RegisterWorkerRequest req, StreamObserver<RegisterWorkerReply> out) {
    WorkerId id = WorkerId.fromBytes(req.getWorkerId().toByteArray());
    List<Runnable> replies = dispatcher.workerRegistered(id, req.getPort());
    if (replies == null) {
      out.onError(
          Status.FAILED_PRECONDITION
              .withDescription("unknown or already registered worker " + id)
              .asRuntimeException());
      return;
    }
    reply(
        out,
        RegisterWorkerReply.newBuilder()
            .setNodeId(ByteString.copyFrom(config.nodeId().toBytes()))
            .setHost(advertisedHost)
            .build());
    replies.forEach(Runnable::run);
  }

  @Override
  public void requestWorkerLease(LeaseRequest req, StreamObserver<LeaseReply> out) {
    dispatcher.requestLease(leaseRequest(req), outcome -> answer(out, leaseReply(outcome)));
  }

  /** The lease request {@code req} says, as the dispatcher takes it. */
  static WorkerLeaseRequest leaseRequest(LeaseRequest req) {
    return new WorkerLeaseRequest(
        req.getLeaseRequestId(),
        req.getResourcesMap(),
        req.getJobId(),
        req.getOwner().getWorkerId(),
        req.getOwner().getNodeId(),
        req.getDisplayName(),
        req.getSpillbackCount(),
        req.hasNodeAffinity()
            ? new WorkerLeaseRequest.Affinity(
                req.getNodeAffinity().getNodeId(), req.getNodeAffinity().getSoft())
            : null,
        req.getActorId(),
        req.getActorLifetime() == ActorLifetime.ACTOR_LIFETIME_DETACHED);
  }

  /** The protocol's reply for {@code outcome}. */
  static LeaseReply leaseReply(LeaseOutcome outcome) {
    return switch (outcome) {
      case LeaseOutcome.Granted g ->
          LeaseReply.newBuilder()
              .setLeaseId(g.leaseId())
              .setWorker(g.worker())
              .setWorkerPid(g.pid())
              .build();
      case LeaseOutcome.Spillback s ->
          LeaseReply.newBuilder().setSpillback(s.nodeManager()).build();
      case LeaseOutcome.Rejected r ->
          LeaseReply.newBuilder()
              .setRejected(true)
              .setFailureMessage(r.message())
              .setInfeasible(r.reason() == LeaseOutcome.Reason.INFEASIBLE)
              .setNodeDied(r.reason() == LeaseOutcome.Reason.NODE_DIED)
              .setCancelled(r.reason() == LeaseOutcome.Reason.CANCELLED)
              .build();
    };
  }

  /**
   * Answers a lease request (on the thread that decided it, never under the node's lock); false if
   * its caller is gone (the call was cancelled), so that the dispatcher takes a grant back.
   */
  private static boolean answer(StreamObserver<LeaseReply> out, LeaseReply reply) {
    if (out instanceof ServerCallStreamObserver<LeaseReply> call && call.isCancelled()) {
      log.debug("could not answer a lease request: its caller is gone");
      return false;
    }
    try {
      out.onNext(reply);
      out.onCompleted();
      return true;
    } catch (RuntimeException e) {
      log.debug("could not answer a lease request (caller gone?): {}", e.toString());
      return false;
    }
  }

  @Override
  public void returnWorker(ReturnWorkerRequest req, StreamObserver<ReturnWorkerReply> out) {
    dispatcher.returnLease(
        req.getLeaseId(),
        req.getWorkerId(),
        req.getDisconnectWorker(),
        req.getKillReason(),
        () -> {
          out.onNext(ReturnWorkerReply.getDefaultInstance());
          out.onCompleted();
        });
  }

  @Override
  public void cancelWorkerLease(CancelLeaseRequest req, StreamObserver<CancelLeaseReply> out) {
    boolean cancelled = dispatcher.cancel(req.getLeaseRequestId());
    reply(out, CancelLeaseReply.newBuilder().setCancelled(cancelled).build());
  }

  @Override
  public void notifyWorkerBlocked(
      WorkerBlockedRequest req, StreamObserver<WorkerBlockedReply> out) {
    dispatcher.workerBlocked(
        WorkerId.fromBytes(req.getWorkerId().toByteArray()),
        req.getBlocked(),
        () -> {
          out.onNext(WorkerBlockedReply.getDefaultInstance());
          out.onCompleted();
        });
  }

  @Override
  public void createObject(CreateObjectRequest req, StreamObserver<CreateObjectReply> out) {
    objectStoreService.createObject(req, out);
  }

  @Override
  public void sealObject(SealObjectRequest req, StreamObserver<SealObjectReply> out) {
    objectStoreService.sealObject(req, out);
  }

  @Override
  public void reserveExtent(ReserveExtentRequest req, StreamObserver<ReserveExtentReply> out) {
    objectStoreService.reserveExtent(req, out);
  }

  @Override
  public void pinObject(PinObjectRequest req, StreamObserver<PinObjectReply> out) {
    objectStoreService.pinObject(req, out);
  }

  @Override
  public void releaseObject(ReleaseObjectRequest req, StreamObserver<ReleaseObjectReply> out) {
    objectStoreService.releaseObject(req, out);
  }

  @Override
  public void deleteObjects(DeleteObjectsRequest req, StreamObserver<DeleteObjectsReply> out) {
    objectStoreService.deleteObjects(req, out);
  }

  @Override
  public void getObjectStoreStats(
      ObjectStoreStatsRequest req, StreamObserver<ObjectStoreStatsReply> out) {
    objectStoreService.getObjectStoreStats(req, out);
  }

  @Override
  public void pullObject(PullObjectRequest req, StreamObserver<ObjectChunk> out) {
    objectManager.pullObject(req, new ChunkSendStream(out));
  }

  @Override
  public void fetchObject(FetchObjectRequest req, StreamObserver<FetchObjectReply> out) {
    ObjectId id;
    try {
      id = ObjectId.fromBytes(req.getObjectId().toByteArray());
    } catch (RuntimeException e) {
      out.onError(
          Status.INVALID_ARGUMENT
              .withDescription("bad object id: " + e.getMessage())
              .asRuntimeException());
      return;
    }
    objectManager
        .fetch(id, req.getSource(), req.getSize())
        .whenComplete(
            (local, err) -> {
              if (err != null) {
                out.onError(ChunkSendStream.statusOf(err).asRuntimeException());
              } else {
                reply(out, FetchObjectReply.newBuilder().setAlreadyLocal(local).build());
              }
            });
  }

  @Override
  public void registerDriver(RegisterDriverRequest req, StreamObserver<RegisterDriverReply> out) {
    notices.registerDriver(req);
    reply(out, RegisterDriverReply.getDefaultInstance());
  }

  @Override
  public void getNodeStats(NodeStatsRequest req, StreamObserver<NodeStatsReply> out) {
    NodeStatsReply.Builder b =
        NodeStatsReply.newBuilder()
            .setNodeId(ByteString.copyFrom(config.nodeId().toBytes()))
            .putAllResourcesTotal(config.resources());
    synchronized (lock) {
      b.putAllResourcesAvailable(dispatcher.availableLocked());
      for (WorkerProcess w : pool.allLocked()) {
        b.addWorkers(
            WorkerInfo.newBuilder()
                .setWorkerId(ByteString.copyFrom(w.id.toBytes()))
                .setPid(w.pid())
                .setPort(w.port)
                .setState(w.state.name())
                .setJobId(w.job));
      }
    }
    if (req.getIncludeObjects()) {
      b.addAllObjects(objectStoreService.objectRows(b.getNodeId()));
    }
    reply(out, b.build());
  }

  private static <T> void reply(StreamObserver<T> out, T value) {
    out.onNext(value);
    out.onCompleted();
  }
}
