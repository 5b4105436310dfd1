package dev.sluice.runtime.node;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.RuntimeStartupException;
import dev.sluice.WorkerId;
import dev.sluice.runtime.code.PackageCache;
import dev.sluice.runtime.code.PackageClient;
import dev.sluice.runtime.executor.WorkerConfig;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.objectmanager.ObjectManager;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.LocalSockets;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.SocketDirectory;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.storerpc.ObjectStoreGrpcService;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's manager (Ray's raylet): keeps a pool of worker JVM processes, grants worker leases
 * against the node's resources, and reports the node's health to the control service. This class
 * wires the parts and is the node's entry point:
 *
 * <ul>
 *   <li>{@link WorkerPool}: the worker JVMs, their states, the worker bound and timeouts;
 *   <li>{@link LeaseDispatcher}: the lease queue, grants and the lending of blocked workers' CPUs;
 *       {@link LeaseRouter}: spillback to other nodes;
 *   <li>{@link JobCodeCache}: each job's code (packages fetched from the head);
 *   <li>{@link HeartbeatLoop}: heartbeats, timeouts and cluster garbage-collection rounds;
 *   <li>{@link NodeNotices}: registered drivers and the notices sent to the node's processes;
 *   <li>{@link NodeManagerGrpcService}: the {@code NodeManagerService} RPCs and their server;
 *       {@link ControlClient} and {@link WorkerNoticeClient}: the node's calls to the control
 *       service and to its processes' core workers. Only these three touch gRPC.
 * </ul>
 *
 * <p>Leases: an owner asks for a worker for one task shape; the reply is held until a worker is
 * free and the resources fit, then names the worker. The owner pushes tasks straight to the worker
 * and returns the lease when it has no more tasks of that shape. A worker blocked in {@code get}
 * lends its CPU back, so nested tasks can run (and more workers start) instead of deadlocking.
 *
 * <p>Code: a worker runs the code of one job. A job registered with code packages gets workers of
 * its own, launched with the packages (fetched from the head into the node's {@link PackageCache}
 * before the first such worker starts, on a virtual thread) as class path, and only its leases are
 * served by them. Prestarted workers run the node's own class path; they serve jobs without
 * packages (an embedded cluster) and jobs whose every package the node's class path holds.
 *
 * <p>Objects move between nodes' stores through the node's {@link ObjectManager}, to which the
 * {@code PullObject} and {@code FetchObject} handlers delegate.
 *
 * <p>Threads: RPC handlers run on transport threads; process exits arrive on the JDK's process
 * reaper threads; one scheduler thread sends heartbeats and enforces start-up timeouts; a virtual
 * thread per newly seen job fetches its code (blocking RPCs and downloads, outside the lock). All
 * scheduling state (pool, dispatcher, router, job code) is guarded by one node lock, {@code lock},
 * shared by those classes; replies are sent after the lock is released.
 */
public final class NodeManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeManager.class);

  private final NodeConfig config;
  private final RpcFactory rpc;
  private final ChannelPool channels;
  private final ControlClient control;
  private final NodeManagerGrpcService service;
  private final String advertisedHost;
  private final SharedMemoryStore objectStore;

  /** Where the node's processes put their Unix sockets; removed when the node stops. */
  private final SocketDirectory sockets;

  private final ObjectStoreGrpcService objectStoreService;
  private final ObjectManager objectManager;
  private final int objectDataPort;
  private final WorkerLaunchCache launchCache;

  /** The node lock: guards the pool, the dispatcher, the router and the job code. */
  private final Object lock = new Object();

  private final WorkerPool pool;

  @GuardedBy("lock")
  private final LeaseRouter router;

  private final LeaseDispatcher dispatcher;
  private final NodeNotices notices;
  private final HeartbeatLoop heartbeat;
  private final NodeMetrics metrics;

  private NodeManager(
      NodeConfig config, RpcFactory rpc, SluiceMetrics metrics, SocketDirectory sockets)
      throws IOException {
    this.config = config;
    this.sockets = sockets;
    this.rpc = rpc;
    this.advertisedHost = config.bindHost();
    this.objectStore =
        SharedMemoryStore.create(
            config.objectStoreDirectory(),
            SharedMemoryStore.fileName(
                config.nodeId().hex().substring(0, 16), ProcessHandle.current().pid()),
            config.objectStoreBytes(),
            config.sessionDir().resolve("spill"),
            this::requestGarbageCollection);
    this.objectStoreService = new ObjectStoreGrpcService(objectStore);
    this.channels = new ChannelPool(rpc, config.nodeId());
    this.control = new ControlClient(channels, config.controlTarget());
    this.objectManager =
        new ObjectManager(
            config.nodeId(),
            objectStore,
            channels,
            config.objectPullMaxInFlightBytes(),
            rpc.maxMessageBytes());
    PackageCache packages =
        new PackageCache(
            config.sessionDir().resolve("packages"),
            config.workerClassPath(),
            new PackageClient(() -> channels.get(config.controlTarget())),
            config.maxMessageBytes());
    this.launchCache = WorkerLaunchCache.forSession(config.sessionDir());
    this.pool =
        new WorkerPool(
            config, advertisedHost, lock, this::launchWorker, this::workerExited, System::nanoTime);
    this.router = new LeaseRouter(config);
    this.metrics = new NodeMetrics(metrics, objectStore, lock, pool);
    JobCodeCache jobCode =
        new JobCodeCache(
            config, JobCodeCache.fromControl(config, control, packages), this::jobCodeFetched);
    this.dispatcher = new LeaseDispatcher(config, advertisedHost, lock, pool, jobCode, router);
    // Off the transport and exit threads: the report is a blocking control call.
    dispatcher.onActorWorkerDeath(
        new OwnerDeaths.ActorWorkerDeaths() {
          @Override
          public void died(ByteString actor, WorkerId worker, String detail) {
            Thread.ofVirtual()
                .name("sluice-actor-death-report")
                .start(() -> control.reportActorWorkerDied(actor, worker, detail));
          }

          @Override
          public void creatorDied(List<ByteString> actors, WorkerId creator, Runnable stop) {
            Thread.ofVirtual()
                .name("sluice-actor-creator-report")
                .start(
                    () -> {
                      try {
                        actors.forEach(a -> control.reportCreatorLost(a, creator, config.nodeId()));
                      } finally {
                        stop.run();
                      }
                    });
          }
        });
    this.notices =
        new NodeNotices(
            config,
            new WorkerNoticeClient(channels),
            control,
            objectStoreService,
            pool::liveAddresses);
    this.heartbeat =
        new HeartbeatLoop(
            config,
            control,
            lock,
            pool,
            dispatcher,
            objectStore,
            new FinishedJobObjects(config.nodeId(), objectStore),
            notices,
            this::registerWithControl,
            this::close);
    this.service =
        new NodeManagerGrpcService(
            config,
            advertisedHost,
            lock,
            pool,
            dispatcher,
            notices,
            objectStoreService,
            objectManager,
            this.metrics);
    service.start(rpc, config.bindHost(), config.port());
    // The bulk data channel is plaintext: with TLS on, pulls stay on (encrypted) gRPC.
    this.objectDataPort =
        !config.objectDataChannel()
                || rpc.security().tls().isPresent()
                || config.bindHost().startsWith(RpcFactory.IN_PROCESS_PREFIX)
            ? 0
            : objectManager.openDataChannel(
                config.bindHost(), rpc.security().token(), this::objectDataAddress);
  }

  /**
   * Starts a node manager: binds its server, registers with the control service and prestarts
   * {@link NodeConfig#numPrestartWorkers()} workers (without waiting for them).
   */
  public static NodeManager start(NodeConfig config, RpcFactory rpc) {
    return start(config, rpc, SluiceMetrics.disabled());
  }

  /** As above, counting the node's store, workers and its processes' reports in {@code metrics}. */
  public static NodeManager start(NodeConfig config, RpcFactory rpc, SluiceMetrics metrics) {
    NodeManager nm;
    // Before any process of the node starts: they find it through the session directory.
    SocketDirectory sockets =
        config.bindHost().startsWith(RpcFactory.IN_PROCESS_PREFIX)
            ? SocketDirectory.none()
            : SocketDirectory.open(config.sessionDir());
    try {
      nm = new NodeManager(config, rpc, metrics, sockets);
    } catch (RuntimeException e) {
      sockets.close();
      throw e;
    } catch (IOException e) {
      sockets.close();
      throw new RuntimeStartupException(
          "node manager could not bind "
              + config.bindHost()
              + ":"
              + config.port()
              + ": "
              + e.getMessage(),
          e);
    }
    try {
      nm.registerWithControl();
    } catch (RuntimeException e) {
      nm.close();
      throw new RuntimeStartupException(
          "node "
              + config.nodeId()
              + " could not register with the"
              + " control service at "
              + config.controlTarget()
              + ": "
              + e.getMessage(),
          e);
    }
    nm.heartbeat.start();
    synchronized (nm.lock) {
      for (int i = 0; i < config.numPrestartWorkers(); i++) {
        nm.pool.launchLocked(ByteString.EMPTY, config.workerClassPath());
      }
    }
    log.info(
        "node manager {} listening on {}:{} with {}; prestarting {} workers",
        config.nodeId(),
        config.bindHost(),
        nm.port(),
        config.resources(),
        config.numPrestartWorkers());
    return nm;
  }

  /** The port the node manager listens on. */
  public int port() {
    return service.port();
  }

  /** The node manager's {@code host:port}. */
  public String target() {
    return advertisedHost + ":" + port();
  }

  private void registerWithControl() {
    NodeInfo info =
        NodeInfo.newBuilder()
            .setNodeId(nodeIdBytes())
            .setNodeManager(
                Address.newBuilder()
                    .setNodeId(nodeIdBytes())
                    .setHost(advertisedHost)
                    .setPort(port()))
            .putAllResourcesTotal(config.resources())
            .setIsHead(config.head())
            .setObjectStoreFile(objectStore.file().toString())
            .setObjectStoreCapacity(objectStore.capacity())
            .setObjectDataPort(objectDataPort)
            .setPid(ProcessHandle.current().pid())
            .build();
    control.registerNode(info);
  }

  /** Waits until {@code count} workers have registered, for callers that want a warm pool. */
  public boolean awaitIdleWorkers(int count, long timeoutMillis) throws InterruptedException {
    return pool.awaitReady(count, timeoutMillis);
  }

  /** Launches a worker process for the worker key {@code job} (the pool's launcher). */
  private WorkerProcess launchWorker(ByteString job, List<Path> classPath) throws IOException {
    WorkerConfig wc =
        new WorkerConfig(
            WorkerId.random(),
            config.nodeId(),
            target(),
            config.bindHost(),
            config.serializationAllowList(),
            config.inlineThresholdBytes(),
            config.maxMessageBytes(),
            objectStore.file(),
            objectStore.capacity(),
            config.controlTarget(),
            config.unschedulableTimeout(),
            rpc.security(),
            config.sessionDir(),
            metrics.enabled());
    WorkerProcess w = WorkerProcess.launch(wc, config, job, classPath, launchCache);
    metrics.workerStarted();
    return w;
  }

  /** A worker process exited (on a process reaper thread). */
  private void workerExited(WorkerProcess w) {
    objectStoreService.releaseClient(ByteString.copyFrom(w.id.toBytes()));
    LocalSockets.removeLeftover(config.sessionDir(), w.localSocket);
    notices.announceExit(w.id);
    dispatcher.workerExited(w);
    metrics.workerExited(w.id);
  }

  /** A job's code was fetched, or not (on the fetching virtual thread). */
  private void jobCodeFetched(ByteString job, List<Path> classPath, String failure) {
    dispatcher.jobCodeFetched(job, classPath, failure);
  }

  /** The store asks for garbage collection (see {@link HeartbeatLoop}). */
  private void requestGarbageCollection(boolean shortOfRoom) {
    HeartbeatLoop h = heartbeat;
    if (h != null) { // null only while constructing, before any client could fill the store
      h.requestGarbageCollection(shortOfRoom);
    }
  }

  private ByteString nodeIdBytes() {
    return ByteString.copyFrom(config.nodeId().toBytes());
  }

  /** Stops the server and every worker process (they are asked, then forced, to exit). */
  @Override
  public void close() {
    List<WorkerProcess> all;
    List<PendingLease> waiting;
    synchronized (lock) {
      waiting = dispatcher.closeLocked();
      if (waiting == null) {
        return;
      }
      all = new ArrayList<>(pool.allLocked());
    }
    waiting.forEach(
        p -> LeaseDispatcher.reject(p, "node " + config.nodeId() + " is shutting down").run());
    heartbeat.close();
    unregisterFromControl();
    all.forEach(WorkerProcess::terminate);
    all.forEach(w -> w.awaitExit(3000));
    launchCache.close();
    objectManager.close();
    metrics.close();
    service.stop();
    channels.close();
    objectStore.close();
    sockets.close();
    log.info("node manager {} stopped ({} workers)", config.nodeId(), all.size());
  }

  private void unregisterFromControl() {
    try {
      control.unregisterNode(nodeIdBytes(), "node manager stopped", Duration.ofSeconds(1));
    } catch (RuntimeException e) {
      log.debug(
          "could not unregister node {} (control service gone?): {}",
          config.nodeId(),
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
      return router.viewLocked().node(nodeId);
    }
  }

  /** The data channel of node manager {@code source}, as last heard, or null. */
  private InetSocketAddress objectDataAddress(Address source) {
    NodeInfo n = clusterNode(source.getNodeId());
    return n == null || n.getObjectDataPort() <= 0
        ? null
        : new InetSocketAddress(n.getNodeManager().getHost(), n.getObjectDataPort());
  }

  /**
   * JVM options a Sluice runtime process needs (workers and node daemons alike), the collector
   * included.
   */
  public static List<String> runtimeJvmOptions() {
    return WorkerProcess.jvmOptions(List.of());
  }

  /** The port of the object manager's bulk data channel, or 0 when pulls use gRPC (TLS). */
  public int objectDataPort() {
    return objectDataPort;
  }

  /** The node's session directory. */
  public Path sessionDir() {
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

  /**
   * Runs {@code listener} with the id of every worker of this node that exits from now on: for a
   * core worker in this process (an embedded driver), which learns of exits directly.
   */
  public void onWorkerExit(Consumer<WorkerId> listener) {
    notices.onWorkerExit(listener);
  }
}
