package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatReply;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatRequest;
import dev.sluice.runtime.rpc.proto.NodeLoad;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's periodic round: enforces workers' start-up and idle timeouts, reports the node's
 * resources and load to the control service, and acts on the reply: the cluster view (for spillback
 * and dead owners), cluster garbage-collection rounds, finished jobs' objects, and a control
 * service that lost (re-register) or declared dead (stop) the node. It reaches the control service
 * through the node's {@link ControlClient}.
 *
 * <p>Threads: runs on one scheduler thread of its own; reads the lease state under the node
 * manager's lock and sends the heartbeat without it. The collection flags are atomics, set from the
 * store's threads.
 */
final class HeartbeatLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HeartbeatLoop.class);

  private final NodeConfig config;
  private final ControlClient control;
  private final Object lock;
  private final WorkerPool pool;
  private final LeaseDispatcher dispatcher;
  private final SharedMemoryStore objectStore;
  private final FinishedJobObjects finishedJobObjects;
  private final NodeNotices notices;
  private final Runnable register;
  private final Runnable stop;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("sluice-node-manager").factory());

  /** The store asked for a collection since the last heartbeat (see the control service). */
  private final AtomicBoolean gcRequestedSinceHeartbeat = new AtomicBoolean();

  /** The cluster collection round last seen in a heartbeat reply; -1 before the first. */
  private final AtomicLong gcRoundSeen = new AtomicLong(-1);

  /**
   * @param register registers the node with the control service again (throws on failure, {@link
   *     NodeDeclaredDeadException} if the node was declared dead)
   * @param stop stops the node (called on a thread of its own)
   */
  HeartbeatLoop(
      NodeConfig config,
      ControlClient control,
      Object lock,
      WorkerPool pool,
      LeaseDispatcher dispatcher,
      SharedMemoryStore objectStore,
      FinishedJobObjects finishedJobObjects,
      NodeNotices notices,
      Runnable register,
      Runnable stop) {
    this.config = config;
    this.control = control;
    this.lock = lock;
    this.pool = pool;
    this.dispatcher = dispatcher;
    this.objectStore = objectStore;
    this.finishedJobObjects = finishedJobObjects;
    this.notices = notices;
    this.register = register;
    this.stop = stop;
  }

  void start() {
    long period = config.heartbeatPeriod().toMillis();
    scheduler.scheduleAtFixedRate(this::tick, period, period, TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }

  /**
   * The store asks for garbage collection: in this node's processes now, and, when it is short of
   * room, (through the next heartbeat) in every other node's, where owners of objects in this store
   * may run.
   */
  void requestGarbageCollection(boolean shortOfRoom) {
    if (shortOfRoom) {
      gcRequestedSinceHeartbeat.set(true);
    }
    notices.collectGarbageInProcesses();
  }

  private void tick() {
    try {
      pool.enforceTimeouts();
      heartbeat();
    } catch (RuntimeException e) {
      log.warn("node manager tick failed: {}", e.toString());
    }
  }

  private void heartbeat() {
    Map<String, Double> snapshot;
    NodeLoad.Builder load = NodeLoad.newBuilder();
    synchronized (lock) {
      snapshot = new HashMap<>(dispatcher.availableLocked());
      load.setWorkers(pool.sizeLocked()).setPendingLeases(dispatcher.pendingCountLocked());
    }
    SharedMemoryStore.Usage st = objectStore.usage();
    load.setStoreUsedBytes(st.used())
        .setStoreObjects(st.objects())
        .setSpilledBytes(st.spilledBytes());
    boolean askedForGc = gcRequestedSinceHeartbeat.getAndSet(false);
    NodeHeartbeatReply reply;
    try {
      reply =
          control.heartbeat(
              NodeHeartbeatRequest.newBuilder()
                  .setNodeId(ByteString.copyFrom(config.nodeId().toBytes()))
                  .putAllResourcesAvailable(snapshot)
                  .setLoad(load)
                  .setGcRequested(askedForGc)
                  .setFinishedJobsSeen(finishedJobObjects.seen())
                  .build(),
              Duration.ofMillis(Math.max(2000, config.heartbeatPeriod().toMillis() * 3)));
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
      notices.collectGarbageInProcesses();
    }
    finishedJobObjects.apply(reply);
    if (reply.getUnknownNode()) {
      log.warn("control service does not know node {}; registering again", config.nodeId());
      try {
        register.run();
      } catch (NodeDeclaredDeadException e) {
        // Declared dead: owners have failed or retried this node's work, so it must not
        // serve more. Stop (off the scheduler thread, which close() shuts down).
        log.error(
            "node {} was declared dead by the control service ({}); stopping it",
            config.nodeId(),
            e.reason());
        Thread.ofPlatform().name("sluice-node-stop").start(stop);
      }
      return;
    }
    dispatcher.clusterViewRefreshed(reply.getNodesList());
  }
}
