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
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
 * <p>Threads: handlers run on the transport threads and only touch concurrent maps; one
 * scheduler thread checks heartbeats and marks silent nodes dead.
 */
public final class ControlService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlService.class);

  private final Map<NodeId, NodeEntry> nodes = new ConcurrentHashMap<>();
  private final Map<String, ByteString> kv = new ConcurrentHashMap<>();
  private final AtomicInteger jobCounter = new AtomicInteger();
  private final Duration nodeTimeout;
  private final ScheduledExecutorService healthChecker;
  private final Server server;

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
        e.info = e.info.toBuilder().setAlive(false).build();
        log.warn("node {} missed heartbeats for {} ms: marked dead",
            NodeId.fromBytes(e.info.getNodeId().toByteArray()), nodeTimeout.toMillis());
      }
    }
  }

  @Override
  public void close() {
    healthChecker.shutdownNow();
    RpcFactory.shutdownQuietly(server);
  }

  private final class Handler extends ControlServiceGrpc.ControlServiceImplBase {
    @Override
    public void registerNode(RegisterNodeRequest req, StreamObserver<RegisterNodeReply> out) {
      NodeEntry e = new NodeEntry();
      e.info = req.getNode().toBuilder().setAlive(true).build();
      NodeId id = NodeId.fromBytes(req.getNode().getNodeId().toByteArray());
      nodes.put(id, e);
      log.info("node {} registered, resources {}", id, e.info.getResourcesTotalMap());
      out.onNext(RegisterNodeReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void nodeHeartbeat(NodeHeartbeatRequest req, StreamObserver<NodeHeartbeatReply> out) {
      NodeEntry e = nodes.get(NodeId.fromBytes(req.getNodeId().toByteArray()));
      if (e != null && e.info.getAlive()) {
        e.lastHeartbeatNanos = System.nanoTime();
      }
      out.onNext(NodeHeartbeatReply.newBuilder()
          .setUnknownNode(e == null || !e.info.getAlive()).build());
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
