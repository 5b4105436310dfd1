package dev.sluice.runtime.control;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.runtime.code.PackageStore;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.ActorRow;
import dev.sluice.runtime.rpc.proto.AddJobRequest;
import dev.sluice.runtime.rpc.proto.GetAllNodesReply;
import dev.sluice.runtime.rpc.proto.JobInfo;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatReply;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.PackageStatsReply;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's control service (Ray's GCS): node membership and health, the job table and a small
 * key-value store. State is in memory; a restart forgets it. With a {@link PackageStore} it also
 * keeps the code packages drivers upload (on disk) and serves them to nodes. Its RPCs are served by
 * a {@link ControlGrpcService}, which turns each call into a call here.
 *
 * <p>Node health: a node that sends no heartbeat for {@code nodeTimeout} is marked dead, for good
 * (a node that comes back must register as a new node, as in Ray: owners have already failed or
 * retried its work). Watchers ({@code WatchNodes}) get every entry at once and each change after.
 *
 * <p>Threads: calls come from transport threads (and the virtual threads the gRPC service starts
 * for package look-ups) and only touch concurrent maps; one scheduler thread checks heartbeats and
 * marks silent nodes dead. Node entries are replaced whole (immutable protos), and a change is
 * published to watchers under {@code watchLock} so that a new watcher never misses one.
 */
public final class ControlService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlService.class);

  /** Rounds start at most this often, however many stores ask. */
  private static final long GC_ROUND_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Map<NodeId, NodeEntry> nodes = new ConcurrentHashMap<>();
  private final Map<String, ByteString> kv = new ConcurrentHashMap<>();
  private final Map<JobId, JobInfo> jobs = new ConcurrentHashMap<>();
  private final FinishedJobs finishedJobs = new FinishedJobs();

  /** Null when this control service keeps no packages (then package RPCs fail). */
  private final PackageStore packages;

  /**
   * Job numbers count up from a random start in [1, 2^30], so they differ across sessions and
   * clusters (and with them every task and object id), stay positive and increase for a billion
   * jobs.
   */
  private final AtomicInteger jobCounter =
      new AtomicInteger(1 + new SecureRandom().nextInt(1 << 30));

  private final Duration nodeTimeout;

  /** Cluster-wide garbage collection rounds started so far (see {@link #startGcRound}). */
  private final AtomicLong gcRound = new AtomicLong();

  private final AtomicLong gcRoundStartedNanos =
      new AtomicLong(System.nanoTime() - GC_ROUND_INTERVAL_NANOS);
  private final ScheduledExecutorService healthChecker;
  private final ControlGrpcService grpc;

  /** Every actor's state (DESIGN "Actors", the actor lifecycle rule). */
  private final ActorTable actors;

  /** Constructs detached actors whose creator is gone; its channels are its own. */
  private final HeadActorCreator headActors;

  private final ChannelPool headChannels;

  private final Object watchLock = new Object();
  private final List<NodeWatch> watchers = new CopyOnWriteArrayList<>();

  /** A node refused: it was marked dead and must come back as a new node. */
  static final class NodeRefusedException extends Exception {
    NodeRefusedException(String message) {
      super(message);
    }
  }

  /** A job refused: its code packages were not uploaded. */
  static final class PackagesMissingException extends Exception {
    PackagesMissingException(String message) {
      super(message);
    }
  }

  /**
   * One {@code WatchNodes} subscriber: takes every node entry and each change after. A subscriber
   * that throws is dropped.
   */
  interface NodeWatch {
    /** Sends one node entry. */
    void send(NodeInfo info);

    /** The control service stops: the subscription ends. */
    void end();
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
    this.healthChecker =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("sluice-control-health").factory());
    this.actors = new ActorTable(ActorTable.DEFAULT_DEAD_KEPT, this::constructDetached);
    this.headChannels = new ChannelPool(rpc);
    this.headActors =
        new HeadActorCreator(actors, headChannels, () -> allNodes().getNodesList(), healthChecker);
    this.grpc = new ControlGrpcService(this, rpc, headActors);
    grpc.start(rpc, bindHost, port);
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
    return grpc.port();
  }

  @Override
  public void close() {
    healthChecker.shutdownNow();
    for (NodeWatch w : watchers) {
      try {
        w.end();
      } catch (RuntimeException e) {
        // the watcher is gone already
      }
    }
    grpc.shutdown();
    headChannels.close();
  }

  /** The table decided a detached actor restarts after its creator is gone: the head constructs. */
  private void constructDetached(ActorEntry restarting) {
    headActors.start(restarting);
  }

  // ------------------------------------------------------------------ nodes

  /** Adds a node, alive with all its resources available. */
  void registerNode(NodeInfo node) throws NodeRefusedException {
    NodeId id = NodeId.fromBytes(node.getNodeId().toByteArray());
    NodeEntry old = nodes.get(id);
    if (old != null && !old.info.getAlive()) {
      throw new NodeRefusedException(
          "node "
              + id
              + " was marked dead ("
              + old.info.getDeathReason()
              + "); a node that comes back must start as a new node");
    }
    NodeEntry e = new NodeEntry();
    synchronized (watchLock) {
      e.info =
          node.toBuilder()
              .setAlive(true)
              .putAllResourcesAvailable(node.getResourcesTotalMap())
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
  }

  /**
   * A node's heartbeat: its resources and load, and its store's call for garbage collection. The
   * reply lists every node, the jobs finished since the node last heard, and the current collection
   * round.
   */
  NodeHeartbeatReply heartbeat(NodeHeartbeatRequest req) {
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
    return reply.build();
  }

  /** Exports the nodes alive and dead ({@code sluice_nodes}) in {@code metrics}. */
  public void exportMetrics(SluiceMetrics metrics) {
    metrics.addNodes(SluiceMetrics.NodeState.ALIVE, () -> countNodes(true));
    metrics.addNodes(SluiceMetrics.NodeState.DEAD, () -> countNodes(false));
  }

  private long countNodes(boolean alive) {
    return nodes.values().stream().filter(e -> e.info.getAlive() == alive).count();
  }

  /** Every node's entry, dead ones included. */
  GetAllNodesReply allNodes() {
    GetAllNodesReply.Builder b = GetAllNodesReply.newBuilder();
    nodes.values().forEach(e -> b.addNodes(e.info));
    return b.build();
  }

  /** A node that stops on purpose: it is dead from now on ({@code reason} empty: "stopped"). */
  void unregisterNode(ByteString nodeId, String reason) {
    NodeEntry e = nodes.get(NodeId.fromBytes(nodeId.toByteArray()));
    if (e != null) {
      markDead(e, reason.isEmpty() ? "stopped" : reason, true);
    }
  }

  /** Sends {@code w} every node's entry, then each change until it is dropped. */
  void watch(NodeWatch w) {
    synchronized (watchLock) {
      nodes.values().forEach(n -> w.send(n.info));
      watchers.add(w);
    }
  }

  /** Stops sending to {@code w} (its subscriber went away). */
  void unwatch(NodeWatch w) {
    watchers.remove(w);
  }

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
    actors.nodeDied(NodeId.fromBytes(e.info.getNodeId().toByteArray()), reason);
    grpc.state().nodeDied(e.info.getNodeId());
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
    for (NodeWatch w : watchers) {
      try {
        w.send(info);
      } catch (RuntimeException ex) {
        watchers.remove(w);
      }
    }
  }

  // ------------------------------------------------------------------ jobs

  /**
   * Starts a job and returns its id. A job that names code packages blocks while they are checked
   * (the first check may index the head's class path).
   *
   * @throws PackagesMissingException if a package it names was not uploaded
   * @throws IOException if the packages cannot be checked
   */
  ByteString addJob(AddJobRequest req) throws PackagesMissingException, IOException {
    if (req.getCodePackagesCount() > 0) {
      List<String> missing =
          packages == null
              ? req.getCodePackagesList()
              : packages.missing(req.getCodePackagesList());
      if (!missing.isEmpty()) {
        throw new PackagesMissingException(
            "the job's code packages " + missing + " were not uploaded");
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
    return ByteString.copyFrom(job.toBytes());
  }

  /** A job ended ({@code reason} says how): every node frees its objects. */
  void finishJob(ByteString jobId, String reason) {
    // Its driver's owned actors die with it; detached ones live on.
    actors.jobFinished(JobId.fromBytes(jobId.toByteArray()));
    grpc.state().jobFinished(jobId);
    if (finishedJobs.finish(jobId)) {
      log.info(
          "job {} finished ({}): every node frees its objects",
          HexFormat.of().formatHex(jobId.toByteArray()),
          reason);
    }
  }

  /** The actor table. */
  ActorTable actors() {
    return actors;
  }

  /** The actor table as state API rows. */
  List<ActorRow> actorRows() {
    return ActorRows.of(actors.list());
  }

  /**
   * Whether task events are kept for the state API (default on); off, processes are told to stop
   * recording them ({@code SluiceConfig.observability}).
   */
  public void keepTaskEvents(boolean on) {
    grpc.state().keepTaskEvents(on);
  }

  /** The job's entry, or null if it is unknown. */
  JobInfo job(ByteString jobId) {
    return jobs.get(JobId.fromBytes(jobId.toByteArray()));
  }

  // ------------------------------------------------------------------ packages and key-value

  /** The store of code packages, or null if this control service keeps none. */
  PackageStore packages() {
    return packages;
  }

  /** Upload and download counts (all zero without a package store). */
  PackageStatsReply packageStats() {
    return packages == null
        ? PackageStatsReply.getDefaultInstance()
        : PackageStatsReply.newBuilder()
            .setUploads(packages.uploads())
            .setDownloads(packages.downloads())
            .setRejectedUploads(packages.rejectedUploads())
            .build();
  }

  void kvPut(String key, ByteString value) {
    kv.put(key, value);
  }

  /** The value under {@code key}, or null. */
  ByteString kvGet(String key) {
    return kv.get(key);
  }
}
