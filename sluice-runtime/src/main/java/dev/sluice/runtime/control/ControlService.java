package dev.sluice.runtime.control;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.AddJobReply;
import dev.sluice.runtime.rpc.proto.AddJobRequest;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.GetAllNodesReply;
import dev.sluice.runtime.rpc.proto.GetAllNodesRequest;
import dev.sluice.runtime.rpc.proto.KvGetReply;
import dev.sluice.runtime.rpc.proto.KvGetRequest;
import dev.sluice.runtime.rpc.proto.KvPutReply;
import dev.sluice.runtime.rpc.proto.KvPutRequest;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatReply;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.RegisterNodeReply;
import dev.sluice.runtime.rpc.proto.RegisterNodeRequest;
import dev.sluice.runtime.rpc.proto.UnregisterNodeReply;
import dev.sluice.runtime.rpc.proto.UnregisterNodeRequest;
import dev.sluice.runtime.rpc.proto.WatchNodesRequest;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's control service (Ray's GCS): node membership and health, the job table and a small
 * key-value store. State is in memory; a restart forgets it.
 *
 * <p>Node health: a node that sends no heartbeat for {@code nodeTimeout} is marked dead, for good
 * (a node that comes back must register as a new node, as in Ray: owners have already failed or
 * retried its work). Watchers ({@code WatchNodes}) get every entry at once and each change after.
 *
 * <p>Threads: handlers run on the transport threads and only touch concurrent maps; one
 * scheduler thread checks heartbeats and marks silent nodes dead. Node entries are replaced
 * whole (immutable protos), and a change is published to watchers under {@code watchLock} so
 * that a new watcher never misses one.
 */
public final class ControlService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlService.class);

  private final Map<NodeId, NodeEntry> nodes = new ConcurrentHashMap<>();
  private final Map<String, ByteString> kv = new ConcurrentHashMap<>();
  private final AtomicInteger jobCounter = new AtomicInteger();
  private final Duration nodeTimeout;
  private final ScheduledExecutorService healthChecker;
  private final Server server;
  private final Object watchLock = new Object();
  private final List<ServerCallStreamObserver<NodeInfo>> watchers = new CopyOnWriteArrayList<>();

  private static final class NodeEntry {
    volatile NodeInfo info;
    volatile long lastHeartbeatNanos = System.nanoTime();
  }

  private ControlService(RpcFactory rpc, String bindHost, int port, Duration nodeTimeout)
      throws IOException {
    this.nodeTimeout = nodeTimeout;
    this.server = rpc.startServer(bindHost, port, List.of(new Handler()));
    this.healthChecker = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("sluice-control-health").factory());
    long period = Math.max(100, nodeTimeout.toMillis() / 4);
    healthChecker.scheduleAtFixedRate(this::checkHealth, period, period, TimeUnit.MILLISECONDS);
  }

  /** Starts a control service at {@code bindHost:port} (0 picks a free port). */
  public static ControlService start(RpcFactory rpc, String bindHost, int port, Duration nodeTimeout)
      throws IOException {
    ControlService cs = new ControlService(rpc, bindHost, port, nodeTimeout);
    log.info("control service listening on {}:{}", bindHost, cs.port());
    return cs;
  }

  /** The port it listens on. */
  public int port() {
    return server.getPort();
  }

  private void checkHealth() {
    long now = System.nanoTime();
    for (NodeEntry e : nodes.values()) {
      if (e.info.getAlive() && now - e.lastHeartbeatNanos > nodeTimeout.toNanos()) {
        markDead(e, "missed heartbeats for " + nodeTimeout.toMillis() + " ms");
      }
    }
  }

  private void markDead(NodeEntry e, String reason) {
    synchronized (watchLock) {
      if (!e.info.getAlive()) {
        return;
      }
      e.info = e.info.toBuilder().setAlive(false).setDeathReason(reason).build();
      publishLocked(e.info);
    }
    log.warn("node {} ({}:{}) is dead: {}", NodeId.fromBytes(e.info.getNodeId().toByteArray()),
        e.info.getNodeManager().getHost(), e.info.getNodeManager().getPort(), reason);
  }

  private void publishLocked(NodeInfo info) {
    for (ServerCallStreamObserver<NodeInfo> w : watchers) {
      try {
        w.onNext(info);
      } catch (RuntimeException ex) {
        watchers.remove(w);
      }
    }
  }

  /** The nodes as known now (alive and dead). */
  public List<NodeInfo> nodes() {
    return nodes.values().stream().map(e -> e.info).toList();
  }

  @Override
  public void close() {
    healthChecker.shutdownNow();
    for (ServerCallStreamObserver<NodeInfo> w : watchers) {
      try {
        w.onCompleted();
      } catch (RuntimeException e) {
        // the watcher is gone already
      }
    }
    RpcFactory.shutdownQuietly(server);
  }

  private final class Handler extends ControlServiceGrpc.ControlServiceImplBase {
    @Override
    public void registerNode(RegisterNodeRequest req, StreamObserver<RegisterNodeReply> out) {
      NodeId id = NodeId.fromBytes(req.getNode().getNodeId().toByteArray());
      NodeEntry old = nodes.get(id);
      if (old != null && !old.info.getAlive()) {
        out.onError(io.grpc.Status.FAILED_PRECONDITION.withDescription("node " + id
            + " was marked dead (" + old.info.getDeathReason() + "); a node that comes back must"
            + " start as a new node").asRuntimeException());
        return;
      }
      NodeEntry e = new NodeEntry();
      synchronized (watchLock) {
        e.info = req.getNode().toBuilder().setAlive(true)
            .putAllResourcesAvailable(req.getNode().getResourcesTotalMap()).build();
        nodes.put(id, e);
        publishLocked(e.info);
      }
      log.info("node {} registered at {}:{}, resources {}", id,
          e.info.getNodeManager().getHost(), e.info.getNodeManager().getPort(),
          e.info.getResourcesTotalMap());
      out.onNext(RegisterNodeReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void nodeHeartbeat(NodeHeartbeatRequest req, StreamObserver<NodeHeartbeatReply> out) {
      NodeEntry e = nodes.get(NodeId.fromBytes(req.getNodeId().toByteArray()));
      if (e != null && e.info.getAlive()) {
        e.lastHeartbeatNanos = System.nanoTime();
        e.info = e.info.toBuilder().clearResourcesAvailable()
            .putAllResourcesAvailable(req.getResourcesAvailableMap()).setLoad(req.getLoad())
            .build();
      }
      NodeHeartbeatReply.Builder reply = NodeHeartbeatReply.newBuilder()
          .setUnknownNode(e == null || !e.info.getAlive());
      nodes.values().forEach(n -> reply.addNodes(n.info));
      out.onNext(reply.build());
      out.onCompleted();
    }

    @Override
    public void getAllNodes(GetAllNodesRequest req, StreamObserver<GetAllNodesReply> out) {
      GetAllNodesReply.Builder b = GetAllNodesReply.newBuilder();
      nodes.values().forEach(e -> b.addNodes(e.info));
      out.onNext(b.build());
      out.onCompleted();
    }

    @Override
    public void unregisterNode(UnregisterNodeRequest req, StreamObserver<UnregisterNodeReply> out) {
      NodeEntry e = nodes.get(NodeId.fromBytes(req.getNodeId().toByteArray()));
      if (e != null) {
        markDead(e, req.getReason().isEmpty() ? "stopped" : req.getReason());
      }
      out.onNext(UnregisterNodeReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void watchNodes(WatchNodesRequest req, StreamObserver<NodeInfo> out) {
      ServerCallStreamObserver<NodeInfo> w = (ServerCallStreamObserver<NodeInfo>) out;
      w.setOnCancelHandler(() -> watchers.remove(w));
      synchronized (watchLock) {
        nodes.values().forEach(n -> w.onNext(n.info));
        watchers.add(w);
      }
    }

    @Override
    public void addJob(AddJobRequest req, StreamObserver<AddJobReply> out) {
      JobId job = JobId.of(jobCounter.incrementAndGet());
      log.info("job {} started by driver at {}:{}", job.number(), req.getDriver().getHost(),
          req.getDriver().getPort());
      out.onNext(AddJobReply.newBuilder().setJobId(ByteString.copyFrom(job.toBytes())).build());
      out.onCompleted();
    }

    @Override
    public void kvPut(KvPutRequest req, StreamObserver<KvPutReply> out) {
      kv.put(req.getKey(), req.getValue());
      out.onNext(KvPutReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void kvGet(KvGetRequest req, StreamObserver<KvGetReply> out) {
      ByteString v = kv.get(req.getKey());
      out.onNext(v == null
          ? KvGetReply.getDefaultInstance()
          : KvGetReply.newBuilder().setFound(true).setValue(v).build());
      out.onCompleted();
    }
  }
}
