package dev.sluice.runtime.control;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.runtime.code.PackageStore;
import dev.sluice.runtime.code.PackageStreams;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.AddJobReply;
import dev.sluice.runtime.rpc.proto.AddJobRequest;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.DownloadPackageRequest;
import dev.sluice.runtime.rpc.proto.FinishJobReply;
import dev.sluice.runtime.rpc.proto.FinishJobRequest;
import dev.sluice.runtime.rpc.proto.GetAllNodesReply;
import dev.sluice.runtime.rpc.proto.GetAllNodesRequest;
import dev.sluice.runtime.rpc.proto.GetJobReply;
import dev.sluice.runtime.rpc.proto.GetJobRequest;
import dev.sluice.runtime.rpc.proto.HasPackagesReply;
import dev.sluice.runtime.rpc.proto.HasPackagesRequest;
import dev.sluice.runtime.rpc.proto.JobInfo;
import dev.sluice.runtime.rpc.proto.KvGetReply;
import dev.sluice.runtime.rpc.proto.KvGetRequest;
import dev.sluice.runtime.rpc.proto.KvPutReply;
import dev.sluice.runtime.rpc.proto.KvPutRequest;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatReply;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.PackageChunk;
import dev.sluice.runtime.rpc.proto.PackageStatsReply;
import dev.sluice.runtime.rpc.proto.PackageStatsRequest;
import dev.sluice.runtime.rpc.proto.RegisterNodeReply;
import dev.sluice.runtime.rpc.proto.RegisterNodeRequest;
import dev.sluice.runtime.rpc.proto.UnregisterNodeReply;
import dev.sluice.runtime.rpc.proto.UnregisterNodeRequest;
import dev.sluice.runtime.rpc.proto.UploadPackageReply;
import dev.sluice.runtime.rpc.proto.WatchNodesRequest;
import io.grpc.Server;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.security.SecureRandom;
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
 * key-value store. State is in memory; a restart forgets it. With a {@link PackageStore} it also
 * keeps the code packages drivers upload (on disk) and serves them to nodes.
 *
 * <p>Node health: a node that sends no heartbeat for {@code nodeTimeout} is marked dead, for good
 * (a node that comes back must register as a new node, as in Ray: owners have already failed or
 * retried its work). Watchers ({@code WatchNodes}) get every entry at once and each change after.
 *
 * <p>Threads: handlers run on the transport threads and only touch concurrent maps, except that
 * package look-ups that may have to index the head's class path run on virtual threads; one
 * scheduler thread checks heartbeats and marks silent nodes dead. Node entries are replaced whole
 * (immutable protos), and a change is published to watchers under {@code watchLock} so that a new
 * watcher never misses one.
 */
public final class ControlService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlService.class);

  private final Map<NodeId, NodeEntry> nodes = new ConcurrentHashMap<>();
  private final Map<String, ByteString> kv = new ConcurrentHashMap<>();
  private final Map<JobId, JobInfo> jobs = new ConcurrentHashMap<>();
  private final FinishedJobs finishedJobs = new FinishedJobs();

  /** Null when this control service keeps no packages (then package RPCs fail). */
  private final PackageStore packages;

  private final PackageStreams packageStreams;

  /**
   * The last job id given out, as a number: it starts at a random value, so that job ids (and with
   * them every task and object id) of different clusters and sessions differ, and counts up from
   * there, so that ids within one cluster never repeat.
   */
  /**
   * Job numbers count up from a random start in [1, 2^30], so they differ across sessions and
   * clusters, stay positive and increase for a billion jobs.
   */
  private final AtomicInteger jobCounter =
      new AtomicInteger(1 + new SecureRandom().nextInt(1 << 30));

  private final Duration nodeTimeout;

  /** Cluster-wide garbage collection rounds started so far (see {@link #startGcRound}). */
  private final java.util.concurrent.atomic.AtomicLong gcRound =
      new java.util.concurrent.atomic.AtomicLong();

  private final java.util.concurrent.atomic.AtomicLong gcRoundStartedNanos =
      new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - GC_ROUND_INTERVAL_NANOS);
  private final ScheduledExecutorService healthChecker;
  private final Server server;
  private final Object watchLock = new Object();
  private final List<ServerCallStreamObserver<NodeInfo>> watchers = new CopyOnWriteArrayList<>();

  /** Rounds start at most this often, however many stores ask. */
  private static final long GC_ROUND_INTERVAL_NANOS =
      java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

  /**
   * A node's store is short of room and asked its own processes to collect garbage; objects in it
   * may also be held by unreachable refs in owners on other nodes, which only collect when their
   * own heaps fill. A new round, announced in every heartbeat reply, has every node ask its
   * processes too (Ray's owners free such objects by reference counting at once; a Java owner needs
   * its collector to run).
   */
  private void startGcRound() {
    long now = System.nanoTime();
    long last = gcRoundStartedNanos.get();
    if (now - last >= GC_ROUND_INTERVAL_NANOS && gcRoundStartedNanos.compareAndSet(last, now)) {
      log.debug("garbage collection round {} across the cluster", gcRound.incrementAndGet());
    }
  }

  private static final class NodeEntry {
    volatile NodeInfo info;
    volatile long lastHeartbeatNanos = System.nanoTime();
  }

  private ControlService(
      RpcFactory rpc, String bindHost, int port, Duration nodeTimeout, PackageStore packages)
      throws IOException {
    this.nodeTimeout = nodeTimeout;
    this.packages = packages;
    this.packageStreams = packages == null ? null : new PackageStreams(packages);
    this.server = rpc.startServer(bindHost, port, List.of(new Handler()));
    this.healthChecker =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("sluice-control-health").factory());
    long period = Math.max(100, nodeTimeout.toMillis() / 4);
    healthChecker.scheduleAtFixedRate(this::checkHealth, period, period, TimeUnit.MILLISECONDS);
  }

  /** Starts a control service at {@code bindHost:port} (0 picks a free port). */
  public static ControlService start(
      RpcFactory rpc, String bindHost, int port, Duration nodeTimeout) throws IOException {
    return start(rpc, bindHost, port, nodeTimeout, null);
  }

  /**
   * Starts a control service at {@code bindHost:port} (0 picks a free port) that keeps code
   * packages in {@code packages} (null: none, and jobs must use their nodes' class path).
   */
  public static ControlService start(
      RpcFactory rpc, String bindHost, int port, Duration nodeTimeout, PackageStore packages)
      throws IOException {
    ControlService cs = new ControlService(rpc, bindHost, port, nodeTimeout, packages);
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
        markDead(e, "missed heartbeats for " + nodeTimeout.toMillis() + " ms", false);
      }
    }
  }

  private void markDead(NodeEntry e, String reason, boolean leftOnPurpose) {
    synchronized (watchLock) {
      if (!e.info.getAlive()) {
        return;
      }
      e.info = e.info.toBuilder().setAlive(false).setDeathReason(reason).build();
      publishLocked(e.info);
    }
    String what = "node {} ({}:{}) is dead: {}";
    Object[] args = {
      NodeId.fromBytes(e.info.getNodeId().toByteArray()),
      e.info.getNodeManager().getHost(),
      e.info.getNodeManager().getPort(),
      reason
    };
    if (leftOnPurpose) {
      log.info(what, args);
    } else {
      log.warn(what, args);
    }
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
        out.onError(
            io.grpc.Status.FAILED_PRECONDITION
                .withDescription(
                    "node "
                        + id
                        + " was marked dead ("
                        + old.info.getDeathReason()
                        + "); a node that comes back must"
                        + " start as a new node")
                .asRuntimeException());
        return;
      }
      NodeEntry e = new NodeEntry();
      synchronized (watchLock) {
        e.info =
            req.getNode().toBuilder()
                .setAlive(true)
                .putAllResourcesAvailable(req.getNode().getResourcesTotalMap())
                .build();
        nodes.put(id, e);
        publishLocked(e.info);
      }
      log.info(
          "node {} registered at {}:{}, resources {}",
          id,
          e.info.getNodeManager().getHost(),
          e.info.getNodeManager().getPort(),
          e.info.getResourcesTotalMap());
      out.onNext(RegisterNodeReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void nodeHeartbeat(NodeHeartbeatRequest req, StreamObserver<NodeHeartbeatReply> out) {
      NodeEntry e = nodes.get(NodeId.fromBytes(req.getNodeId().toByteArray()));
      if (e != null && e.info.getAlive()) {
        e.lastHeartbeatNanos = System.nanoTime();
        e.info =
            e.info.toBuilder()
                .clearResourcesAvailable()
                .putAllResourcesAvailable(req.getResourcesAvailableMap())
                .setLoad(req.getLoad())
                .build();
      }
      if (req.getGcRequested() && e != null) {
        startGcRound();
      }
      NodeHeartbeatReply.Builder reply =
          NodeHeartbeatReply.newBuilder()
              .setUnknownNode(e == null || !e.info.getAlive())
              .setGcRound(gcRound.get());
      long finished = finishedJobs.count();
      if (req.getFinishedJobsSeen() < finished) {
        reply.addAllFinishedJobs(finishedJobs.after(req.getFinishedJobsSeen()));
      }
      reply.setFinishedJobsTotal(finished);
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
        markDead(e, req.getReason().isEmpty() ? "stopped" : req.getReason(), true);
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
      if (req.getCodePackagesCount() > 0) {
        // Checking packages may index the head's class path: never on a transport thread.
        Thread.ofVirtual().name("sluice-add-job").start(() -> addJobNow(req, out));
      } else {
        addJobNow(req, out);
      }
    }

    private void addJobNow(AddJobRequest req, StreamObserver<AddJobReply> out) {
      if (req.getCodePackagesCount() > 0) {
        try {
          List<String> missing =
              packages == null
                  ? req.getCodePackagesList()
                  : packages.missing(req.getCodePackagesList());
          if (!missing.isEmpty()) {
            out.onError(
                io.grpc.Status.FAILED_PRECONDITION
                    .withDescription(
                        "the job's code " + "packages " + missing + " were not uploaded")
                    .asRuntimeException());
            return;
          }
        } catch (IOException e) {
          out.onError(
              io.grpc.Status.INTERNAL
                  .withDescription("cannot check the job's packages: " + e.getMessage())
                  .asRuntimeException());
          return;
        }
      }
      JobId job = JobId.of(jobCounter.incrementAndGet());
      jobs.put(
          job,
          JobInfo.newBuilder()
              .setJobId(ByteString.copyFrom(job.toBytes()))
              .addAllCodePackages(req.getCodePackagesList())
              .build());
      log.info(
          "job {} started by driver at {}:{} ({})",
          job.hex(),
          req.getDriver().getHost(),
          req.getDriver().getPort(),
          req.getCodePackagesCount() == 0
              ? "nodes' own code"
              : req.getCodePackagesCount() + " code packages");
      out.onNext(AddJobReply.newBuilder().setJobId(ByteString.copyFrom(job.toBytes())).build());
      out.onCompleted();
    }

    @Override
    public void finishJob(FinishJobRequest req, StreamObserver<FinishJobReply> out) {
      if (finishedJobs.finish(req.getJobId())) {
        log.info(
            "job {} finished ({}): every node frees its objects",
            java.util.HexFormat.of().formatHex(req.getJobId().toByteArray()),
            req.getReason());
      }
      out.onNext(FinishJobReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void getJob(GetJobRequest req, StreamObserver<GetJobReply> out) {
      JobInfo info = jobs.get(JobId.fromBytes(req.getJobId().toByteArray()));
      out.onNext(
          info == null
              ? GetJobReply.getDefaultInstance()
              : GetJobReply.newBuilder().setFound(true).setJob(info).build());
      out.onCompleted();
    }

    @Override
    public void hasPackages(HasPackagesRequest req, StreamObserver<HasPackagesReply> out) {
      if (noPackages(out)) {
        return;
      }
      Thread.ofVirtual()
          .name("sluice-has-packages")
          .start(
              () -> {
                try {
                  out.onNext(
                      HasPackagesReply.newBuilder()
                          .addAllMissing(packages.missing(req.getSha256List()))
                          .build());
                  out.onCompleted();
                } catch (IOException | RuntimeException e) {
                  out.onError(
                      io.grpc.Status.INTERNAL
                          .withDescription("cannot index the head's packages: " + e.getMessage())
                          .asRuntimeException());
                }
              });
    }

    @Override
    public StreamObserver<PackageChunk> uploadPackage(StreamObserver<UploadPackageReply> out) {
      if (noPackages(out)) {
        return new StreamObserver<>() {
          @Override
          public void onNext(PackageChunk value) {}

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        };
      }
      return packageStreams.receive(out);
    }

    @Override
    public void downloadPackage(DownloadPackageRequest req, StreamObserver<PackageChunk> out) {
      if (!noPackages(out)) {
        packageStreams.send(req, out);
      }
    }

    @Override
    public void getPackageStats(PackageStatsRequest req, StreamObserver<PackageStatsReply> out) {
      out.onNext(
          packages == null
              ? PackageStatsReply.getDefaultInstance()
              : PackageStatsReply.newBuilder()
                  .setUploads(packages.uploads())
                  .setDownloads(packages.downloads())
                  .setRejectedUploads(packages.rejectedUploads())
                  .build());
      out.onCompleted();
    }

    private boolean noPackages(StreamObserver<?> out) {
      if (packages != null) {
        return false;
      }
      out.onError(
          io.grpc.Status.FAILED_PRECONDITION
              .withDescription("this control service " + "keeps no code packages")
              .asRuntimeException());
      return true;
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
      out.onNext(
          v == null
              ? KvGetReply.getDefaultInstance()
              : KvGetReply.newBuilder().setFound(true).setValue(v).build());
      out.onCompleted();
    }
  }
}
