package dev.sluice.runtime.node;

import dev.sluice.ObjectId;
import dev.sluice.runtime.objectmanager.ObjectManager;
import dev.sluice.runtime.objectstore.ObjectStoreService;
import dev.sluice.runtime.rpc.proto.FetchObjectReply;
import dev.sluice.runtime.rpc.proto.FetchObjectRequest;
import dev.sluice.runtime.rpc.proto.ObjectChunk;
import dev.sluice.runtime.rpc.proto.PullObjectRequest;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import dev.sluice.runtime.rpc.proto.CreateObjectReply;
import dev.sluice.runtime.rpc.proto.CreateObjectRequest;
import dev.sluice.runtime.rpc.proto.DeleteObjectsReply;
import dev.sluice.runtime.rpc.proto.DeleteObjectsRequest;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsReply;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsRequest;
import dev.sluice.runtime.rpc.proto.PinObjectReply;
import dev.sluice.runtime.rpc.proto.PinObjectRequest;
import dev.sluice.runtime.rpc.proto.ReleaseObjectReply;
import dev.sluice.runtime.rpc.proto.ReleaseObjectRequest;
import dev.sluice.runtime.rpc.proto.SealObjectReply;
import dev.sluice.runtime.rpc.proto.SealObjectRequest;
import com.google.protobuf.ByteString;
import dev.sluice.RuntimeStartupException;
import dev.sluice.WorkerId;
import dev.sluice.runtime.executor.WorkerConfig;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.Callbacks;
import dev.sluice.runtime.rpc.proto.CollectGarbageRequest;
import dev.sluice.runtime.rpc.proto.WorkersDiedRequest;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.CancelLeaseReply;
import dev.sluice.runtime.rpc.proto.CancelLeaseRequest;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatReply;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.NodeLoad;
import dev.sluice.runtime.rpc.proto.UnregisterNodeRequest;
import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.NodeStatsReply;
import dev.sluice.runtime.rpc.proto.NodeStatsRequest;
import dev.sluice.runtime.rpc.proto.RegisterNodeRequest;
import dev.sluice.runtime.rpc.proto.RegisterWorkerReply;
import dev.sluice.runtime.rpc.proto.RegisterWorkerRequest;
import dev.sluice.runtime.rpc.proto.ReturnWorkerReply;
import dev.sluice.runtime.rpc.proto.ReturnWorkerRequest;
import dev.sluice.runtime.rpc.proto.WorkerBlockedReply;
import dev.sluice.runtime.rpc.proto.WorkerBlockedRequest;
import dev.sluice.runtime.rpc.proto.WorkerInfo;
import dev.sluice.runtime.code.PackageCache;
import dev.sluice.runtime.rpc.proto.GetJobReply;
import dev.sluice.runtime.rpc.proto.GetJobRequest;
import java.nio.file.Path;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's manager (Ray's raylet): keeps a pool of worker JVM processes, grants worker leases
 * against the node's resources, and reports the node's health to the control service.
 *
 * <p>Leases: an owner asks for a worker for one task shape; the reply is held until a worker is
 * free and the resources fit, then names the worker. The owner pushes tasks straight to the worker
 * and returns the lease when it has no more tasks of that shape. A worker blocked in {@code get}
 * lends its CPU back, so nested tasks can run (and more workers start) instead of deadlocking.
 *
 * <p>Code: a worker runs the code of one job. A job registered with code packages gets workers of
 * its own, launched with the packages (fetched from the head into the node's {@link PackageCache}
 * before the first such worker starts, on a virtual thread) as class path, and only its leases
 * are served by them. Prestarted workers run the node's own class path; they serve jobs without
 * packages (an embedded cluster) and jobs whose every package the node's class path holds.
 *
 * <p>Objects move between nodes' stores through the node's {@link ObjectManager}, to which the
 * {@code PullObject} and {@code FetchObject} handlers delegate.
 *
 * <p>Threads: RPC handlers run on transport threads; process exits arrive on the JDK's process
 * reaper threads; one scheduler thread sends heartbeats and enforces start-up timeouts; a virtual
 * thread per newly seen job fetches its code (blocking RPCs and downloads, outside the lock). All
 * scheduling state is guarded by {@code lock}; replies are sent after the lock is released.
 */
public final class NodeManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeManager.class);
  private static final int MAX_CONSECUTIVE_START_FAILURES = 3;
  private static final long IDLE_WORKER_KEEP_NANOS = TimeUnit.SECONDS.toNanos(10);
  /** Leases one worker may hold at once under the lending rule. */
  private static final int MAX_LEASES_PER_WORKER = 64;

  private final NodeConfig config;
  private final RpcFactory rpc;
  private final ChannelPool channels;
  private final Server server;
  private final ScheduledExecutorService scheduler;
  private final String advertisedHost;
  private final SharedMemoryStore objectStore;
  /** The store asked for a collection since the last heartbeat (see the control service). */
  private final java.util.concurrent.atomic.AtomicBoolean gcRequestedSinceHeartbeat =
      new java.util.concurrent.atomic.AtomicBoolean();
  /** The cluster collection round last seen in a heartbeat reply; -1 before the first. */
  private final java.util.concurrent.atomic.AtomicLong gcRoundSeen =
      new java.util.concurrent.atomic.AtomicLong(-1);
  private final ObjectStoreService objectStoreService;
  private final ObjectManager objectManager;
  private final int objectDataPort;
  private final java.util.Set<Address> drivers = new java.util.concurrent.CopyOnWriteArraySet<>();
  private final DriverWatch driverWatch;
  private final FinishedJobObjects finishedJobObjects;
  private final List<java.util.function.Consumer<WorkerId>> exitListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  private final Object lock = new Object();
  private final Map<WorkerId, WorkerProcess> workers = new LinkedHashMap<>();
  private final ArrayDeque<PendingLease> pending = new ArrayDeque<>();
  private final Map<ByteString, Lease> leases = new HashMap<>();
  private final Map<String, Double> available;
  private final PackageCache packages;
  private final WorkerLaunchCache launchCache;
  /** The code of each job a lease was asked for, by job id; guarded by {@code lock}. */
  private final Map<ByteString, JobCode> jobCode = new HashMap<>();
  /** The worker key of the last grant: the job a warm spare is started for. */
  private ByteString lastGrantedKey = ByteString.EMPTY;
  private int consecutiveStartFailures;
  /** When the worker-bound warning was last logged (System.nanoTime), 0: never. */
  private long workerBoundWarnedNanos;
  private boolean closed;
  /** Other nodes as of the last heartbeat reply, for spillback; guarded by {@code lock}. */
  private final ClusterView clusterView;

  private record PendingLease(LeaseRequest request, StreamObserver<LeaseReply> reply,
      long arrivedNanos) {
    PendingLease(LeaseRequest request, StreamObserver<LeaseReply> reply) {
      this(request, reply, System.nanoTime());
    }
  }

  /** Returned by {@link #routeLocked} for a request parked until the next cluster view. */
  private static final Runnable PARKED = () -> { };

  /**
   * Requests naming a node this node has not heard of yet (it may have joined since the last
   * heartbeat reply): routed again when the view is refreshed, for a few heartbeats at most.
   */
  private final List<PendingLease> awaitingView = new ArrayList<>();

  /** A job's code on this node: being fetched until {@code ready}. Guarded by {@code lock}. */
  private static final class JobCode {
    boolean ready;
    /** Class path of the job's own workers; null: the node's (served by shared workers). */
    List<Path> classPath;
  }

  private static final class Lease {
    final ByteString id;
    final WorkerProcess worker;
    final Map<String, Double> resources;
    final ByteString ownerWorkerId;
    final ByteString ownerNodeId;
    boolean blocked;

    Lease(ByteString id, WorkerProcess worker, Map<String, Double> resources,
        Address owner) {
      this.ownerWorkerId = owner.getWorkerId();
      this.ownerNodeId = owner.getNodeId();
      this.id = id;
      this.worker = worker;
      this.resources = resources;
    }
  }

  private NodeManager(NodeConfig config, RpcFactory rpc) throws IOException {
    this.config = config;
    this.rpc = rpc;
    this.objectStore = SharedMemoryStore.create(config.objectStoreDirectory(),
        SharedMemoryStore.fileName(config.nodeId().hex().substring(0, 16),
            ProcessHandle.current().pid()),
        config.objectStoreBytes(), config.sessionDir().resolve("spill"),
        this::requestGarbageCollection);
    this.objectStoreService = new ObjectStoreService(objectStore);
    this.channels = new ChannelPool(rpc);
    this.objectManager = new ObjectManager(config.nodeId(), objectStore, channels,
        config.objectPullMaxInFlightBytes(), rpc.maxMessageBytes());
    this.available = new HashMap<>(config.resources());
    this.finishedJobObjects = new FinishedJobObjects(config.nodeId(), objectStore);
    this.driverWatch = new DriverWatch(channels, config.controlTarget(), a -> {
      drivers.remove(a);
      objectStoreService.releaseClient(a.getWorkerId());
    });
    this.clusterView = new ClusterView(config.nodeId());
    this.packages = new PackageCache(config.sessionDir().resolve("packages"),
        config.workerClassPath(), () -> channels.get(config.controlTarget()),
        config.maxMessageBytes());
    this.launchCache = WorkerLaunchCache.forSession(config.sessionDir());
    this.advertisedHost = config.bindHost();
    this.server = rpc.startServer(config.bindHost(), config.port(), List.of(new Handler()));
    // The bulk data channel is plaintext: with TLS on, pulls stay on (encrypted) gRPC.
    this.objectDataPort = !config.objectDataChannel() || rpc.security().tls().isPresent()
        || config.bindHost().startsWith(RpcFactory.IN_PROCESS_PREFIX) ? 0
        : objectManager.openDataChannel(config.bindHost(), rpc.security().token(),
            this::objectDataAddress);
    this.scheduler = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("sluice-node-manager").factory());
  }

  /**
   * Starts a node manager: binds its server, registers with the control service and prestarts
   * {@link NodeConfig#numPrestartWorkers()} workers (without waiting for them).
   */
  public static NodeManager start(NodeConfig config, RpcFactory rpc) {
    NodeManager nm;
    try {
      nm = new NodeManager(config, rpc);
    } catch (IOException e) {
      throw new RuntimeStartupException("node manager could not bind " + config.bindHost() + ":"
          + config.port() + ": " + e.getMessage(), e);
    }
    try {
      nm.registerWithControl();
    } catch (RuntimeException e) {
      nm.close();
      throw new RuntimeStartupException("node " + config.nodeId() + " could not register with the"
          + " control service at " + config.controlTarget() + ": " + e.getMessage(), e);
    }
    long period = config.heartbeatPeriod().toMillis();
    nm.scheduler.scheduleAtFixedRate(nm::tick, period, period, TimeUnit.MILLISECONDS);
    synchronized (nm.lock) {
      for (int i = 0; i < config.numPrestartWorkers(); i++) {
        nm.launchWorkerLocked(ByteString.EMPTY, config.workerClassPath());
      }
    }
    log.info("node manager {} listening on {}:{} with {}; prestarting {} workers",
        config.nodeId(), config.bindHost(), nm.port(), config.resources(),
        config.numPrestartWorkers());
    return nm;
  }

  /** The port the node manager listens on. */
  public int port() {
    return server.getPort();
  }

  /** The node manager's {@code host:port}. */
  public String target() {
    return advertisedHost + ":" + port();
  }

  private void registerWithControl() {
    NodeInfo info = NodeInfo.newBuilder()
        .setNodeId(ByteString.copyFrom(config.nodeId().toBytes()))
        .setNodeManager(Address.newBuilder().setNodeId(ByteString.copyFrom(config.nodeId()
            .toBytes())).setHost(advertisedHost).setPort(port()))
        .putAllResourcesTotal(config.resources())
        .setIsHead(config.head())
        .setObjectStoreFile(objectStore.file().toString())
        .setObjectStoreCapacity(objectStore.capacity())
        .setObjectDataPort(objectDataPort)
        .setPid(ProcessHandle.current().pid())
        .build();
    ControlServiceGrpc.newBlockingStub(channels.get(config.controlTarget()))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .registerNode(RegisterNodeRequest.newBuilder().setNode(info).build());
  }

  /** Waits until {@code count} workers have registered, for callers that want a warm pool. */
  public boolean awaitIdleWorkers(int count, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < deadline) {
      synchronized (lock) {
        long ready = workers.values().stream()
            .filter(w -> w.state == WorkerProcess.State.IDLE || w.state == WorkerProcess.State.LEASED)
            .count();
        if (ready >= count) {
          return true;
        }
      }
      Thread.sleep(10);
    }
    return false;
  }

  // ------------------------------------------------------------------ scheduling (under lock)

  /** Launches a worker for the worker key {@code job} (empty: the node's own code). */
  private void launchWorkerLocked(ByteString job, List<Path> classPath) {
    WorkerConfig wc = new WorkerConfig(WorkerId.random(), config.nodeId(), target(),
        config.bindHost(), config.serializationAllowList(), config.inlineThresholdBytes(),
        config.maxMessageBytes(), objectStore.file(), objectStore.capacity(),
        config.controlTarget(), config.unschedulableTimeout(), rpc.security());
    WorkerProcess w;
    try {
      w = WorkerProcess.launch(wc, config, job, classPath, launchCache);
    } catch (IOException e) {
      log.error("cannot launch a worker process: {}", e.getMessage());
      consecutiveStartFailures++;
      return;
    }
    workers.put(w.id, w);
    log.debug("launched worker {} (pid {}){}", w.id, w.pid(),
        job.isEmpty() ? "" : " for job " + jobName(job));
    w.process.onExit().thenRun(() -> onWorkerExit(w));
  }

  private List<Lease> leasesOfLocked(WorkerProcess w) {
    List<Lease> out = new ArrayList<>();
    for (Lease l : leases.values()) {
      if (l.worker == w) {
        out.add(l);
      }
    }
    return out;
  }

  /** Lends (or takes back) the CPU of lease {@code l}. */
  private void setLentLocked(Lease l, boolean lent) {
    if (l.blocked != lent) {
      double cpu = l.resources.getOrDefault("CPU", 0.0);
      available.merge("CPU", lent ? cpu : -cpu, Double::sum);
      l.blocked = lent;
    }
  }

  /**
   * After leases came or went: a leased worker with no lease left is idle again, and a worker
   * running an unblocked task is charged the CPU of at least one of its leases.
   */
  private void settleWorkersLocked() {
    for (WorkerProcess w : workers.values()) {
      if (w.state != WorkerProcess.State.LEASED) {
        continue;
      }
      List<Lease> held = leasesOfLocked(w);
      if (held.isEmpty()) {
        w.state = WorkerProcess.State.IDLE;
        w.allBlocked = false;
        w.idleSinceNanos = System.nanoTime();
      } else if (!w.allBlocked && held.stream().allMatch(l -> l.blocked)) {
        setLentLocked(held.getLast(), false);
      }
    }
  }

  private Lease leaseOfWorkerLocked(ByteString workerId) {
    for (Lease l : leases.values()) {
      if (ByteString.copyFrom(l.worker.id.toBytes()).equals(workerId)) {
        return l;
      }
    }
    return null;
  }

  /** Grants what can be granted and starts workers for what is waiting; returns the replies. */
  private List<Runnable> dispatchLocked() {
    List<Runnable> replies = new ArrayList<>();
    Map<ByteString, Integer> waitingForWorker = new LinkedHashMap<>();
    // Resources not yet promised: requests waiting for a worker to start count against it, so
    // that no more workers start than could ever be leased.
    Map<String, Double> unpromised = new HashMap<>(available);
    for (Iterator<PendingLease> it = pending.iterator(); it.hasNext(); ) {
      PendingLease p = it.next();
      Map<String, Double> need = need(p.request);
      String infeasible = infeasibility(need);
      if (infeasible != null) {
        it.remove();
        LeaseReply r = LeaseReply.newBuilder().setRejected(true).setInfeasible(true)
            .setFailureMessage(infeasible).build();
        replies.add(() -> complete(p.reply, r));
        continue;
      }
      ByteString key = workerKeyLocked(p.request);
      if (key == null) {
        continue;  // the job's code is being fetched; it promises nothing meanwhile
      }
      if (!fits(need, unpromised)) {
        continue;
      }
      need.forEach((k, v) -> unpromised.merge(k, -v, Double::sum));
      WorkerProcess idle = workers.values().stream()
          .filter(w -> w.state == WorkerProcess.State.IDLE && w.job.equals(key))
          .findFirst().orElse(null);
      if (idle == null) {
        // The lending rule: a worker whose every task is blocked runs more tasks on its lent CPU
        // in the same JVM, sooner than a new JVM could start (DESIGN "Nested tasks").
        idle = workers.values().stream()
            .filter(w -> w.state == WorkerProcess.State.LEASED && w.allBlocked
                && w.job.equals(key) && leasesOfLocked(w).size() < MAX_LEASES_PER_WORKER)
            .findFirst().orElse(null);
        if (idle != null) {
          idle.allBlocked = false;
        }
      }
      if (idle == null) {
        waitingForWorker.merge(key, 1, Integer::sum);
        continue;
      }
      lastGrantedKey = key;
      it.remove();
      need.forEach((k, v) -> available.merge(k, -v, Double::sum));
      Lease lease = new Lease(ByteString.copyFromUtf8(UUID.randomUUID().toString()), idle, need,
          p.request.getOwner());
      leases.put(lease.id, lease);
      idle.state = WorkerProcess.State.LEASED;
      LeaseReply reply = LeaseReply.newBuilder()
          .setLeaseId(lease.id)
          .setWorker(Addresses.of(idle.id, config.nodeId(), advertisedHost, idle.port))
          .setWorkerPid(idle.pid())
          .build();
      replies.add(() -> {
        if (!complete(p.reply, reply)) {
          takeBackUndelivered(lease.id);
        }
      });
    }
    startWorkersLocked(waitingForWorker, replies);
    return replies;
  }

  /**
   * Starts workers for the requests waiting for one, per worker key; at the cap, an idle worker
   * of another key makes room (its kill is added to {@code actions}).
   */
  private void startWorkersLocked(Map<ByteString, Integer> waiting, List<Runnable> actions) {
    Map<ByteString, Long> starting = new HashMap<>();
    for (WorkerProcess w : workers.values()) {
      if (w.state == WorkerProcess.State.STARTING) {
        starting.merge(w.job, 1L, Long::sum);
      }
    }
    // Keep one warm spare: a JVM takes seconds to start, and a worker blocked in get() lends its
    // CPU to the tasks it waits for, which then need a worker at once.
    if (waiting.isEmpty() && starting.isEmpty() && idleCountLocked() == 0) {
      ByteString spare = lastGrantedKey.isEmpty() || classPathLocked(lastGrantedKey) != null
          ? lastGrantedKey : ByteString.EMPTY;
      waiting = Map.of(spare, 1);
    }
    int cap = maxWorkersLocked();
    for (Map.Entry<ByteString, Integer> e : waiting.entrySet()) {
      ByteString key = e.getKey();
      long s = starting.getOrDefault(key, 0L);
      List<Path> classPath = classPathLocked(key);
      while (s < e.getValue() && classPath != null && !closed
          && consecutiveStartFailures < MAX_CONSECUTIVE_START_FAILURES) {
        if (liveWorkerCountLocked() >= cap && !evictIdleLocked(key, actions)) {
          warnAtWorkerBoundLocked(cap);
          break;
        }
        launchWorkerLocked(key, classPath);
        s++;
      }
    }
  }

  /** Says (at most once a minute) that lease requests wait because the worker bound is hit. */
  private void warnAtWorkerBoundLocked(int cap) {
    long now = System.nanoTime();
    if (workerBoundWarnedNanos != 0 && now - workerBoundWarnedNanos < TimeUnit.MINUTES.toNanos(1)) {
      return;
    }
    workerBoundWarnedNanos = now;
    log.warn("node {} runs its maximum of {} worker JVMs (CPUs + maxExtraWorkers {}); {} lease "
        + "request(s) wait until a worker is free (blocked tasks run their own queued children)",
        config.nodeId(), cap, config.maxExtraWorkers(), pending.size());
  }

  /** Workers not marked dead. */
  private long liveWorkerCountLocked() {
    return workers.values().stream().filter(w -> w.state != WorkerProcess.State.DEAD).count();
  }

  /** Stops the longest idle worker of a key other than {@code key}; false if there is none. */
  private boolean evictIdleLocked(ByteString key, List<Runnable> actions) {
    WorkerProcess victim = null;
    for (WorkerProcess w : workers.values()) {
      if (w.state == WorkerProcess.State.IDLE && !w.job.equals(key)
          && (victim == null || w.idleSinceNanos < victim.idleSinceNanos)) {
        victim = w;
      }
    }
    if (victim == null) {
      return false;
    }
    victim.state = WorkerProcess.State.DEAD;
    WorkerProcess v = victim;
    log.debug("stopping idle worker {} to make room for a worker of {}", v.id,
        key.isEmpty() ? "the node's code" : "job " + jobName(key));
    actions.add(() -> v.process.destroyForcibly());
    return true;
  }

  /**
   * The worker key of a request: the empty key for the node's own code, else the job id; null
   * while the job's code is being fetched (the first request of a job starts that).
   */
  private ByteString workerKeyLocked(LeaseRequest r) {
    ByteString job = r.getJobId();
    if (job.isEmpty()) {
      return ByteString.EMPTY;
    }
    JobCode code = jobCode.get(job);
    if (code == null) {
      jobCode.put(job, new JobCode());
      Thread.ofVirtual().name("sluice-job-code").start(() -> fetchJobCode(job));
      return null;
    }
    if (!code.ready) {
      return null;
    }
    return code.classPath == null ? ByteString.EMPTY : job;
  }

  /** The class path of workers of {@code key}, or null if the key's code is not ready. */
  private List<Path> classPathLocked(ByteString key) {
    if (key.isEmpty()) {
      return config.workerClassPath();
    }
    JobCode code = jobCode.get(key);
    return code == null || !code.ready ? null : code.classPath;
  }

  /**
   * Learns a job's code from the control service and brings its packages to this node, then
   * dispatches the job's waiting requests, or rejects them naming the job and the package that
   * could not be had. Runs on a virtual thread, never under the lock.
   */
  private void fetchJobCode(ByteString job) {
    List<Path> classPath = null;
    String failure = null;
    try {
      GetJobReply reply = ControlServiceGrpc.newBlockingStub(channels.get(config.controlTarget()))
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .getJob(GetJobRequest.newBuilder().setJobId(job).build());
      List<String> code = reply.getJob().getCodePackagesList();
      if (!reply.getFound()) {
        log.warn("job {} is unknown to the control service; its tasks run on the node's own "
            + "class path", jobName(job));
      } else if (!code.isEmpty() && !packages.allLocal(code)) {
        long t0 = System.nanoTime();
        classPath = packages.resolve(code);
        log.info("code of job {} ready on node {}: {} packages in {} ms", jobName(job),
            config.nodeId(), code.size(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      }
    } catch (IOException | RuntimeException e) {
      failure = "node " + config.nodeId() + " cannot get the code of job " + jobName(job) + ": "
          + e.getMessage();
      log.error(failure);
    }
    List<Runnable> replies = new ArrayList<>();
    synchronized (lock) {
      if (failure != null) {
        // Forgotten, so that a later request of the job tries again.
        jobCode.remove(job);
        for (Iterator<PendingLease> it = pending.iterator(); it.hasNext(); ) {
          PendingLease p = it.next();
          if (p.request.getJobId().equals(job)) {
            it.remove();
            replies.add(reject(p, failure));
          }
        }
      } else {
        JobCode code = jobCode.get(job);
        if (code != null) {
          code.classPath = classPath;
          code.ready = true;
        }
        if (!closed) {
          replies.addAll(dispatchLocked());
        }
      }
    }
    replies.forEach(Runnable::run);
  }

  private static String jobName(ByteString job) {
    return java.util.HexFormat.of().formatHex(job.toByteArray());
  }

  private long idleCountLocked() {
    return workers.values().stream().filter(w -> w.state == WorkerProcess.State.IDLE).count();
  }

  /**
   * The worker bound: one JVM per CPU (or per prestarted worker) plus {@code maxExtraWorkers} for
   * tasks that run while others are blocked. Blocked tasks first run their queued children
   * themselves (the work-helping rule), so the extra room is for children that cannot.
   */
  private int maxWorkersLocked() {
    int base = Math.max(config.numPrestartWorkers(), (int) Math.ceil(config.cpus()));
    return Math.max(1, base + config.maxExtraWorkers());
  }

  private static Map<String, Double> need(LeaseRequest r) {
    Map<String, Double> need = new HashMap<>(r.getResourcesMap());
    need.values().removeIf(v -> v <= 0);
    return need;
  }

  private String infeasibility(Map<String, Double> need) {
    for (Map.Entry<String, Double> e : need.entrySet()) {
      double total = config.resources().getOrDefault(e.getKey(), 0.0);
      if (e.getValue() > total + 1e-9) {
        return "task needs " + e.getKey() + "=" + e.getValue() + " but node " + config.nodeId()
            + " has only " + total + " in total (" + config.resources() + ")";
      }
    }
    return null;
  }

  static boolean fits(Map<String, Double> need, Map<String, Double> budget) {
    for (Map.Entry<String, Double> e : need.entrySet()) {
      if (e.getValue() > budget.getOrDefault(e.getKey(), 0.0) + 1e-9) {
        return false;
      }
    }
    return true;
  }

  private void releaseLocked(Lease lease) {
    if (!lease.blocked) {
      lease.resources.forEach((k, v) -> available.merge(k, v, Double::sum));
    } else {
      lease.resources.forEach((k, v) -> {
        if (!"CPU".equals(k)) {
          available.merge(k, v, Double::sum);
        }
      });
    }
  }

  private static Runnable reject(PendingLease p, String message) {
    LeaseReply r = LeaseReply.newBuilder().setRejected(true).setFailureMessage(message).build();
    return () -> complete(p.reply, r);
  }

  /** Answers a lease request; false if its caller is gone (the call was cancelled). */
  private static <T> boolean complete(StreamObserver<T> observer, T value) {
    if (observer instanceof io.grpc.stub.ServerCallStreamObserver<T> call && call.isCancelled()) {
      log.debug("could not answer a lease request: its caller is gone");
      return false;
    }
    try {
      observer.onNext(value);
      observer.onCompleted();
      return true;
    } catch (RuntimeException e) {
      log.debug("could not answer a lease request (caller gone?): {}", e.toString());
      return false;
    }
  }

  /**
   * A lease whose grant could not be delivered (its owner died while it waited) goes back at
   * once: nobody will ever use or return it.
   */
  private void takeBackUndelivered(ByteString leaseId) {
    List<Runnable> replies = List.of();
    synchronized (lock) {
      Lease lease = leases.remove(leaseId);
      if (lease != null) {
        log.info("lease of worker {} taken back: its owner was gone when it was granted",
            lease.worker.id);
        releaseLocked(lease);
        settleWorkersLocked();
        if (!closed) {
          replies = dispatchLocked();
        }
      }
    }
    replies.forEach(Runnable::run);
  }

  private void onWorkerExit(WorkerProcess w) {
    objectStoreService.releaseClient(ByteString.copyFrom(w.id.toBytes()));
    announceExit(w.id);
    List<Runnable> replies;
    synchronized (lock) {
      WorkerProcess.State previous = w.state;
      w.state = WorkerProcess.State.DEAD;
      workers.remove(w.id);
      ByteString deadId = ByteString.copyFrom(w.id.toBytes());
      leases.values().removeIf(l -> {
        if (l.worker == w) {
          releaseLocked(l);
          return true;
        }
        if (l.ownerWorkerId.equals(deadId)) {
          // The owner died holding this lease: nobody will return it. The leased worker's task
          // stream broke with the owner, so the worker is free again.
          releaseLocked(l);
          log.info("lease of worker {} released: its owner, worker {}, died", l.worker.id, w.id);
          return true;
        }
        return false;
      });
      settleWorkersLocked();
      if (closed) {
        return;
      }
      if (previous == WorkerProcess.State.STARTING) {
        consecutiveStartFailures++;
        log.error("worker {} (pid {}) exited with code {} before registering; log {}:\n{}",
            w.id, w.pid(), w.process.exitValue(), w.logFile, w.logTail(30));
      } else if (previous == WorkerProcess.State.DEAD) {
        log.debug("worker {} (pid {}) stopped as asked", w.id, w.pid());
      } else {
        log.warn("worker {} (pid {}) exited with code {} while {}", w.id, w.pid(),
            w.process.exitValue(), previous);
      }
      replies = new ArrayList<>();
      if (consecutiveStartFailures >= MAX_CONSECUTIVE_START_FAILURES) {
        String msg = "worker processes on node " + config.nodeId() + " fail to start ("
            + consecutiveStartFailures + " in a row); last log " + w.logFile + ":\n"
            + w.logTail(30);
        while (!pending.isEmpty()) {
          replies.add(reject(pending.poll(), msg));
        }
      } else {
        if (workers.size() < config.numPrestartWorkers()) {
          launchWorkerLocked(ByteString.EMPTY, config.workerClassPath());
        }
        replies.addAll(dispatchLocked());
      }
    }
    replies.forEach(Runnable::run);
  }

  private void tick() {
    try {
      enforceStartupTimeouts();
      heartbeat();
    } catch (RuntimeException e) {
      log.warn("node manager tick failed: {}", e.toString());
    }
  }

  private void enforceStartupTimeouts() {
    long now = System.nanoTime();
    List<WorkerProcess> toKill = new ArrayList<>();
    synchronized (lock) {
      for (WorkerProcess w : workers.values()) {
        if (w.state == WorkerProcess.State.STARTING
            && now - w.startedNanos > config.workerStartupTimeout().toNanos()) {
          log.error("worker {} (pid {}) did not register within {}; killing it", w.id, w.pid(),
              config.workerStartupTimeout());
          toKill.add(w);
        } else if (w.state == WorkerProcess.State.IDLE
            && workers.size() - toKill.size() > config.numPrestartWorkers()
            && idleCountLocked() - toKill.size() > 1
            && now - w.idleSinceNanos > IDLE_WORKER_KEEP_NANOS) {
          toKill.add(w);
        }
      }
      toKill.forEach(w -> w.state = WorkerProcess.State.DEAD);
    }
    toKill.forEach(w -> w.process.destroyForcibly());
  }

  private void heartbeat() {
    Map<String, Double> snapshot;
    NodeLoad.Builder load = NodeLoad.newBuilder();
    synchronized (lock) {
      snapshot = new HashMap<>(available);
      load.setWorkers(workers.size()).setPendingLeases(pending.size());
    }
    SharedMemoryStore.Usage st = objectStore.usage();
    load.setStoreUsedBytes(st.used()).setStoreObjects(st.objects())
        .setSpilledBytes(st.spilledBytes());
    boolean askedForGc = gcRequestedSinceHeartbeat.getAndSet(false);
    NodeHeartbeatReply reply;
    try {
      reply = ControlServiceGrpc.newBlockingStub(channels.get(config.controlTarget()))
          .withDeadlineAfter(Math.max(2000, config.heartbeatPeriod().toMillis() * 3),
              TimeUnit.MILLISECONDS)
          .nodeHeartbeat(NodeHeartbeatRequest.newBuilder()
              .setNodeId(ByteString.copyFrom(config.nodeId().toBytes()))
              .putAllResourcesAvailable(snapshot).setLoad(load)
              .setGcRequested(askedForGc)
              .setFinishedJobsSeen(finishedJobObjects.seen()).build());
    } catch (RuntimeException e) {
      if (askedForGc) {
        gcRequestedSinceHeartbeat.set(true);
      }
      throw e;
    }
    long round = reply.getGcRound();
    long seen = gcRoundSeen.getAndSet(round);
    if (seen >= 0 && round > seen && !askedForGc) {
      // Another node's store is short of room (this node's own request already collected).
      log.debug("cluster garbage collection round {}: asking this node's processes", round);
      collectGarbageInProcesses();
    }
    finishedJobObjects.apply(reply);
    if (reply.getUnknownNode()) {
      log.warn("control service does not know node {}; registering again", config.nodeId());
      try {
        registerWithControl();
      } catch (io.grpc.StatusRuntimeException e) {
        if (e.getStatus().getCode() == io.grpc.Status.Code.FAILED_PRECONDITION) {
          // Declared dead: owners have failed or retried this node's work, so it must not
          // serve more. Stop (off the scheduler thread, which close() shuts down).
          log.error("node {} was declared dead by the control service ({}); stopping it",
              config.nodeId(), e.getStatus().getDescription());
          Thread.ofPlatform().name("sluice-node-stop").start(this::close);
          return;
        }
        throw e;
      }
      return;
    }
    List<Runnable> replies;
    synchronized (lock) {
      clusterView.update(reply.getNodesList());
      releaseLeasesOfDeadOwnersLocked(reply.getNodesList());
      replies = new ArrayList<>();
      List<PendingLease> parked = new ArrayList<>(awaitingView);
      awaitingView.clear();
      for (PendingLease p : parked) {
        Runnable routed = routeLocked(p);
        if (routed != null && routed != PARKED) {
          replies.add(routed);
        }
      }
      replies.addAll(spillWaitingLocked());
      replies.addAll(dispatchLocked());
    }
    replies.forEach(Runnable::run);
  }

  /**
   * Leases whose owner ran on a node that died are released: nobody will return them, and the
   * owner's task streams broke with it, so the workers are free again.
   */
  private void releaseLeasesOfDeadOwnersLocked(List<NodeInfo> nodes) {
    java.util.Set<ByteString> dead = new java.util.HashSet<>();
    for (NodeInfo n : nodes) {
      if (!n.getAlive()) {
        dead.add(n.getNodeId());
      }
    }
    if (dead.isEmpty()) {
      return;
    }
    leases.values().removeIf(l -> {
      if (!dead.contains(l.ownerNodeId)) {
        return false;
      }
      releaseLocked(l);
      log.info("lease of worker {} released: its owner's node {} died", l.worker.id,
          NodeId.fromBytes(l.ownerNodeId.toByteArray()));
      return true;
    });
    settleWorkersLocked();
  }

  /**
   * Sends lease requests that wait here for resources to nodes that reported them free: without
   * it a burst that landed on one node would wait there while others idle. A request is sent on
   * once at most ({@code spillback_count}), so requests never bounce between nodes.
   */
  private List<Runnable> spillWaitingLocked() {
    List<Runnable> replies = new ArrayList<>();
    if (pending.isEmpty() || clusterView.isEmpty()) {
      return replies;
    }
    Map<String, Double> unpromised = new HashMap<>(available);
    for (Iterator<PendingLease> it = pending.iterator(); it.hasNext(); ) {
      PendingLease p = it.next();
      Map<String, Double> need = need(p.request);
      if (fits(need, unpromised)) {
        need.forEach((k, v) -> unpromised.merge(k, -v, Double::sum));
        continue;
      }
      if (p.request.getSpillbackCount() > 0 || hardAffinityHere(p.request)) {
        continue;
      }
      NodeInfo target = clusterView.withAvailable(need);
      if (target != null) {
        it.remove();
        replies.add(spillback(p, target));
      }
    }
    return replies;
  }

  private boolean hardAffinityHere(LeaseRequest r) {
    return r.hasNodeAffinity() && !r.getNodeAffinity().getSoft()
        && r.getNodeAffinity().getNodeId().equals(nodeIdBytes());
  }

  private ByteString nodeIdBytes() {
    return ByteString.copyFrom(config.nodeId().toBytes());
  }

  private Runnable spillback(PendingLease p, NodeInfo target) {
    clusterView.reserve(target, need(p.request));
    log.debug("lease request {} ({}) sent on to node {}", p.request.getLeaseRequestId()
        .toStringUtf8(), p.request.getDisplayName(), NodeId.fromBytes(target.getNodeId()
        .toByteArray()));
    LeaseReply r = LeaseReply.newBuilder().setSpillback(target.getNodeManager()).build();
    return () -> complete(p.reply, r);
  }

  /**
   * Where a new lease request goes (Ray's hybrid policy, simplified): a node-affinity request to
   * its node; a request this node can never serve to a node that can; a request that does not fit
   * here now to a node that reported room for it; everything else waits here.
   *
   * <p>A soft affinity (a preference, such as the locality of large arguments) never overrides
   * feasibility and is followed on the first hop only: a request is not sent to a preferred node
   * that can never serve it, nor back to it once it was sent on from there. Otherwise a preferred
   * node without a needed resource and the node with it would send the request to each other
   * for as long as the owner follows.
   */
  private Runnable routeLocked(PendingLease p) {
    LeaseRequest r = p.request;
    Map<String, Double> need = need(r);
    if (r.hasNodeAffinity() && !r.getNodeAffinity().getNodeId().equals(nodeIdBytes())) {
      NodeInfo target = clusterView.node(r.getNodeAffinity().getNodeId());
      boolean soft = r.getNodeAffinity().getSoft();
      if (target != null && target.getAlive() && (!soft
          || (r.getSpillbackCount() == 0 && ClusterView.canEverHold(target, need)))) {
        return spillback(p, target);
      }
      long viewWait = Math.max(TimeUnit.SECONDS.toNanos(10),
          5 * config.heartbeatPeriod().toNanos());
      if (target == null && System.nanoTime() - p.arrivedNanos < viewWait) {
        awaitingView.add(p);
        return PARKED;
      }
      if (!r.getNodeAffinity().getSoft()) {
        String why = target == null ? "is not in the cluster"
            : "is dead (" + target.getDeathReason() + ")";
        LeaseReply reply = LeaseReply.newBuilder().setRejected(true).setNodeDied(true)
            .setFailureMessage("task " + r.getDisplayName() + " must run on node "
                + NodeId.fromBytes(r.getNodeAffinity().getNodeId().toByteArray()) + ", which "
                + why).build();
        return () -> complete(p.reply, reply);
      }
    }
    boolean pinnedHere = hardAffinityHere(r);
    String infeasible = infeasibility(need);
    if (infeasible != null) {
      NodeInfo target = pinnedHere ? null : clusterView.feasible(need);
      if (target != null) {
        return spillback(p, target);
      }
      String where = clusterView.isEmpty() || pinnedHere ? infeasible
          : "no node of the cluster has " + need + " in total (" + infeasible + ")";
      LeaseReply reply = LeaseReply.newBuilder().setRejected(true).setInfeasible(true)
          .setFailureMessage(where).build();
      return () -> complete(p.reply, reply);
    }
    if (r.getSpillbackCount() == 0 && !pinnedHere && !fits(need, available)) {
      NodeInfo target = clusterView.withAvailable(need);
      if (target != null) {
        return spillback(p, target);
      }
    }
    pending.add(p);
    return null;
  }

  /** Stops the server and every worker process (they are asked, then forced, to exit). */
  @Override
  public void close() {
    List<WorkerProcess> all;
    List<PendingLease> waiting;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      all = new ArrayList<>(workers.values());
      waiting = new ArrayList<>(pending);
      waiting.addAll(awaitingView);
      awaitingView.clear();
      pending.clear();
    }
    waiting.forEach(p -> reject(p, "node " + config.nodeId() + " is shutting down").run());
    scheduler.shutdownNow();
    unregisterFromControl();
    all.forEach(WorkerProcess::terminate);
    all.forEach(w -> w.awaitExit(3000));
    launchCache.close();
    objectManager.close();
    RpcFactory.shutdownQuietly(server);
    channels.close();
    objectStore.close();
    log.info("node manager {} stopped ({} workers)", config.nodeId(), all.size());
  }

  private void unregisterFromControl() {
    try {
      ControlServiceGrpc.newBlockingStub(channels.get(config.controlTarget()))
          .withDeadlineAfter(1, TimeUnit.SECONDS)
          .unregisterNode(UnregisterNodeRequest.newBuilder().setNodeId(nodeIdBytes())
              .setReason("node manager stopped").build());
    } catch (RuntimeException e) {
      log.debug("could not unregister node {} (control service gone?): {}", config.nodeId(),
          e.toString());
    }
  }

  /** The node's id. */
  public NodeId nodeId() {
    return config.nodeId();
  }

  /** Node {@code nodeId} as this node last heard of it from the control service, or null. */
  public NodeInfo clusterNode(ByteString nodeId) {
    synchronized (lock) {
      return clusterView.node(nodeId);
    }
  }

  /** The data channel of node manager {@code source}, as last heard, or null. */
  private java.net.InetSocketAddress objectDataAddress(Address source) {
    NodeInfo n = clusterNode(source.getNodeId());
    return n == null || n.getObjectDataPort() <= 0 ? null
        : new java.net.InetSocketAddress(n.getNodeManager().getHost(), n.getObjectDataPort());
  }

  /** JVM options a Sluice runtime process needs (workers and node daemons alike). */
  public static List<String> runtimeJvmOptions() {
    return WorkerProcess.RUNTIME_JVM_OPTIONS;
  }

  /** The port of the object manager's bulk data channel, or 0 when pulls use gRPC (TLS). */
  public int objectDataPort() {
    return objectDataPort;
  }

  /** The node's session directory. */
  public java.nio.file.Path sessionDir() {
    return config.sessionDir();
  }

  /** The node's shared-memory object store. */
  public SharedMemoryStore objectStore() {
    return objectStore;
  }

  /** The node's object manager, which moves objects between nodes' stores. */
  public ObjectManager objectManager() {
    return objectManager;
  }

  /** The store's service, for a client in this process (see {@link ObjectStoreService}). */
  public ObjectStoreService objectStoreService() {
    return objectStoreService;
  }

  /**
   * Runs {@code listener} with the id of every worker of this node that exits from now on: for
   * a core worker in this process (an embedded driver), which learns of exits directly.
   */
  public void onWorkerExit(java.util.function.Consumer<WorkerId> listener) {
    exitListeners.add(listener);
  }

  /**
   * Tells this process's listeners and every live worker of the node that worker {@code dead}
   * exited, so that owners release what it borrowed.
   */
  private void announceExit(WorkerId dead) {
    for (java.util.function.Consumer<WorkerId> l : exitListeners) {
      l.accept(dead);
    }
    WorkersDiedRequest req = WorkersDiedRequest.newBuilder()
        .addWorkerIds(ByteString.copyFrom(dead.toBytes())).build();
    for (Address a : liveWorkerAddresses()) {
      if (!a.getWorkerId().equals(req.getWorkerIds(0))) {
        CoreWorkerServiceGrpc.newStub(channels.get(Addresses.target(a))).workersDied(req,
            noticeFailed(a, "worker exit notice"));
      }
    }
  }

  /**
   * The node's live workers and the drivers registered here: the processes that get the node's
   * notices. A driver that cannot be reached is dropped by {@link #noticeFailed}.
   */
  private List<Address> liveWorkerAddresses() {
    List<Address> targets = new ArrayList<>(drivers);
    synchronized (lock) {
      for (WorkerProcess w : workers.values()) {
        if (w.state != WorkerProcess.State.STARTING && w.state != WorkerProcess.State.DEAD) {
          targets.add(Addresses.of(w.id, config.nodeId(), advertisedHost, w.port));
        }
      }
    }
    return targets;
  }

  /**
   * The store asks for garbage collection: in this node's processes now, and, when it is short
   * of room, (through the next heartbeat) in every other node's, where owners of objects in this
   * store may run.
   */
  private void requestGarbageCollection(boolean shortOfRoom) {
    if (shortOfRoom) {
      gcRequestedSinceHeartbeat.set(true);
    }
    collectGarbageInProcesses();
  }

  /**
   * Asks every process of the node (its workers, its registered drivers, and this process,
   * which may host an embedded driver) to collect garbage, so that objects whose refs are
   * unreachable get freed.
   */
  private void collectGarbageInProcesses() {
    List<Address> targets = liveWorkerAddresses();
    log.debug("object store full: asking {} workers and this process to collect garbage",
        targets.size());
    Thread.ofVirtual().start(System::gc);
    for (Address a : targets) {
      CoreWorkerServiceGrpc.newStub(channels.get(Addresses.target(a))).collectGarbage(
          CollectGarbageRequest.getDefaultInstance(), noticeFailed(a, "collect garbage"));
    }
  }

  /** A reply observer for a notice to {@code a}: a driver that does not answer is forgotten. */
  private <T> StreamObserver<T> noticeFailed(Address a, String what) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {
        if (drivers.remove(a)) {
          objectStoreService.releaseClient(a.getWorkerId());
          log.info("driver {} no longer answers ({}); it gets no more notices",
              Addresses.workerId(a), t.toString());
        } else {
          log.debug("{} to {} failed: {}", what, Addresses.target(a), t.toString());
        }
      }

      @Override
      public void onCompleted() {}
    };
  }

  // ------------------------------------------------------------------ RPC handlers

  private final class Handler extends NodeManagerServiceGrpc.NodeManagerServiceImplBase {
    @Override
    public void registerWorker(RegisterWorkerRequest req,
        StreamObserver<RegisterWorkerReply> out) {
      WorkerId id = WorkerId.fromBytes(req.getWorkerId().toByteArray());
      List<Runnable> replies;
      synchronized (lock) {
        WorkerProcess w = workers.get(id);
        if (w == null || w.state != WorkerProcess.State.STARTING) {
          out.onError(io.grpc.Status.FAILED_PRECONDITION
              .withDescription("unknown or already registered worker " + id).asRuntimeException());
          return;
        }
        w.port = req.getPort();
        w.state = WorkerProcess.State.IDLE;
        w.idleSinceNanos = System.nanoTime();
        consecutiveStartFailures = 0;
        log.debug("worker {} registered on port {} after {} ms", id, w.port,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - w.startedNanos));
        replies = dispatchLocked();
      }
      out.onNext(RegisterWorkerReply.newBuilder()
          .setNodeId(ByteString.copyFrom(config.nodeId().toBytes()))
          .setHost(advertisedHost).build());
      out.onCompleted();
      replies.forEach(Runnable::run);
    }

    @Override
    public void requestWorkerLease(LeaseRequest req, StreamObserver<LeaseReply> out) {
      List<Runnable> replies;
      synchronized (lock) {
        if (closed) {
          replies = List.of(reject(new PendingLease(req, out), "node is shutting down"));
        } else {
          Runnable routed = routeLocked(new PendingLease(req, out));
          replies = routed == PARKED ? List.of()
              : routed != null ? List.of(routed) : dispatchLocked();
        }
      }
      replies.forEach(Runnable::run);
    }

    @Override
    public void returnWorker(ReturnWorkerRequest req, StreamObserver<ReturnWorkerReply> out) {
      List<Runnable> replies = List.of();
      WorkerProcess toKill = null;
      synchronized (lock) {
        Lease lease = req.getLeaseId().isEmpty() ? leaseOfWorkerLocked(req.getWorkerId())
            : leases.remove(req.getLeaseId());
        if (req.getLeaseId().isEmpty()) {
          if (lease != null) {
            leases.remove(lease.id);
          }
          log.info("worker {} lost its owner's connection: {}", WorkerId.fromBytes(
              req.getWorkerId().toByteArray()), lease != null ? "lease released" : "no lease held");
        }
        if (lease != null) {
          releaseLocked(lease);
          if (req.getDisconnectWorker()) {
            lease.worker.state = WorkerProcess.State.DEAD;
            toKill = lease.worker;
          }
          settleWorkersLocked();
          replies = dispatchLocked();
        }
      }
      if (toKill != null) {
        if (!req.getKillReason().isEmpty()) {
          log.info("killing worker {} (pid {}): {}", toKill.id, toKill.pid(), req.getKillReason());
        }
        toKill.process.destroyForcibly();
      }
      out.onNext(ReturnWorkerReply.getDefaultInstance());
      out.onCompleted();
      replies.forEach(Runnable::run);
    }

    @Override
    public void cancelWorkerLease(CancelLeaseRequest req, StreamObserver<CancelLeaseReply> out) {
      PendingLease found = null;
      synchronized (lock) {
        for (Iterator<PendingLease> it = java.util.stream.Stream.concat(pending.stream(),
            awaitingView.stream()).iterator(); it.hasNext(); ) {
          PendingLease p = it.next();
          if (p.request.getLeaseRequestId().equals(req.getLeaseRequestId())) {
            found = p;
            break;
          }
        }
        if (found != null) {
          pending.remove(found);
          awaitingView.remove(found);
        }
      }
      if (found != null) {
        complete(found.reply, LeaseReply.newBuilder().setRejected(true).setCancelled(true)
            .setFailureMessage("lease request cancelled by its owner").build());
      }
      out.onNext(CancelLeaseReply.newBuilder().setCancelled(found != null).build());
      out.onCompleted();
    }

    @Override
    public void notifyWorkerBlocked(WorkerBlockedRequest req,
        StreamObserver<WorkerBlockedReply> out) {
      List<Runnable> replies = List.of();
      WorkerId id = WorkerId.fromBytes(req.getWorkerId().toByteArray());
      synchronized (lock) {
        WorkerProcess w = workers.get(id);
        if (w != null && w.allBlocked != req.getBlocked()) {
          w.allBlocked = req.getBlocked();
          if (w.allBlocked) {
            // Every task it runs waits: its leases' CPUs are free, and it may be leased again.
            leasesOfLocked(w).forEach(l -> setLentLocked(l, true));
          }
          settleWorkersLocked();
          replies = dispatchLocked();
        }
      }
      out.onNext(WorkerBlockedReply.getDefaultInstance());
      out.onCompleted();
      replies.forEach(Runnable::run);
    }

    @Override
    public void createObject(CreateObjectRequest req, StreamObserver<CreateObjectReply> out) {
      out.onNext(objectStoreService.create(req));
      out.onCompleted();
    }

    @Override
    public void sealObject(SealObjectRequest req, StreamObserver<SealObjectReply> out) {
      out.onNext(objectStoreService.seal(req));
      out.onCompleted();
    }

    @Override
    public void reserveExtent(dev.sluice.runtime.rpc.proto.ReserveExtentRequest req,
        StreamObserver<dev.sluice.runtime.rpc.proto.ReserveExtentReply> out) {
      out.onNext(objectStoreService.reserveExtent(req));
      out.onCompleted();
    }

    @Override
    public void pinObject(PinObjectRequest req, StreamObserver<PinObjectReply> out) {
      out.onNext(objectStoreService.pin(req));
      out.onCompleted();
    }

    @Override
    public void releaseObject(ReleaseObjectRequest req, StreamObserver<ReleaseObjectReply> out) {
      objectStoreService.release(req.getObjectId());
      out.onNext(ReleaseObjectReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void deleteObjects(DeleteObjectsRequest req, StreamObserver<DeleteObjectsReply> out) {
      objectStoreService.delete(req);
      out.onNext(DeleteObjectsReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void getObjectStoreStats(ObjectStoreStatsRequest req,
        StreamObserver<ObjectStoreStatsReply> out) {
      out.onNext(objectStoreService.stats());
      out.onCompleted();
    }

    @Override
    public void pullObject(PullObjectRequest req, StreamObserver<ObjectChunk> out) {
      objectManager.pullObject(req, out);
    }

    @Override
    public void fetchObject(FetchObjectRequest req, StreamObserver<FetchObjectReply> out) {
      objectManager.fetchObject(req, out);
    }

    @Override
    public void registerDriver(dev.sluice.runtime.rpc.proto.RegisterDriverRequest req,
        StreamObserver<dev.sluice.runtime.rpc.proto.RegisterDriverReply> out) {
      drivers.add(req.getDriver());
      driverWatch.watch(req);
      log.info("driver {} attached to node {}", Addresses.workerId(req.getDriver()),
          config.nodeId());
      out.onNext(dev.sluice.runtime.rpc.proto.RegisterDriverReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void getNodeStats(NodeStatsRequest req, StreamObserver<NodeStatsReply> out) {
      NodeStatsReply.Builder b = NodeStatsReply.newBuilder()
          .setNodeId(ByteString.copyFrom(config.nodeId().toBytes()))
          .putAllResourcesTotal(config.resources());
      synchronized (lock) {
        b.putAllResourcesAvailable(available);
        for (WorkerProcess w : workers.values()) {
          b.addWorkers(WorkerInfo.newBuilder()
              .setWorkerId(ByteString.copyFrom(w.id.toBytes()))
              .setPid(w.pid()).setPort(w.port).setState(w.state.name()).setJobId(w.job));
        }
      }
      out.onNext(b.build());
      out.onCompleted();
    }
  }
}
