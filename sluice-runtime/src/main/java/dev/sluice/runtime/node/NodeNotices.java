package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.RegisterDriverRequest;
import dev.sluice.runtime.rpc.proto.WorkersDiedRequest;
import dev.sluice.runtime.storerpc.ObjectStoreGrpcService;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drivers registered with a node and the notices the node sends its processes (its live
 * workers, its drivers and listeners in this process): worker exits and garbage-collection
 * requests. A driver that does not answer a notice, or whose connection the {@link DriverWatch}
 * sees break, is forgotten and its store client released. The notices travel through a {@link
 * WorkerNoticeClient}.
 *
 * <p>Threads: thread-safe (concurrent collections); never takes the node manager's lock itself (the
 * live workers' addresses come from a supplier that does), and sends notices asynchronously; a
 * notice's failure is handled on a transport thread.
 */
final class NodeNotices {
  private static final Logger log = LoggerFactory.getLogger(NodeNotices.class);

  private final NodeConfig config;
  private final WorkerNoticeClient client;
  private final ObjectStoreGrpcService objectStoreService;
  private final Supplier<List<Address>> liveWorkers;
  private final Set<Address> drivers = new CopyOnWriteArraySet<>();
  private final List<Consumer<WorkerId>> exitListeners = new CopyOnWriteArrayList<>();
  private final DriverWatch driverWatch;

  NodeNotices(
      NodeConfig config,
      WorkerNoticeClient client,
      ControlClient control,
      ObjectStoreGrpcService objectStoreService,
      Supplier<List<Address>> liveWorkers) {
    this.config = config;
    this.client = client;
    this.objectStoreService = objectStoreService;
    this.liveWorkers = liveWorkers;
    this.driverWatch =
        new DriverWatch(
            control,
            a -> {
              drivers.remove(a);
              objectStoreService.releaseClient(a.getWorkerId());
            });
  }

  /** A driver attached to this node: it gets the node's notices until it stops answering. */
  void registerDriver(RegisterDriverRequest req) {
    drivers.add(req.getDriver());
    driverWatch.watch(req);
    log.info("driver {} attached to node {}", Addresses.workerId(req.getDriver()), config.nodeId());
  }

  /** Runs {@code listener} with the id of every worker of this node that exits from now on. */
  void onWorkerExit(Consumer<WorkerId> listener) {
    exitListeners.add(listener);
  }

  /**
   * Tells this process's listeners and every live worker of the node that worker {@code dead}
   * exited, so that owners release what it borrowed.
   */
  void announceExit(WorkerId dead) {
    for (Consumer<WorkerId> l : exitListeners) {
      l.accept(dead);
    }
    WorkersDiedRequest req =
        WorkersDiedRequest.newBuilder().addWorkerIds(ByteString.copyFrom(dead.toBytes())).build();
    for (Address a : targets()) {
      if (!a.getWorkerId().equals(req.getWorkerIds(0))) {
        client.workersDied(a, req, noticeFailed(a, "worker exit notice"));
      }
    }
  }

  /**
   * Asks every process of the node (its workers, its registered drivers, and this process, which
   * may host an embedded driver) to collect garbage, so that objects whose refs are unreachable get
   * freed.
   */
  void collectGarbageInProcesses() {
    List<Address> targets = targets();
    log.debug(
        "object store full: asking {} workers and this process to collect garbage", targets.size());
    Thread.ofVirtual().start(System::gc);
    for (Address a : targets) {
      client.collectGarbage(a, noticeFailed(a, "collect garbage"));
    }
  }

  /**
   * The registered drivers and the node's live workers: the processes that get the node's notices.
   * A driver that cannot be reached is dropped by {@link #noticeFailed}.
   */
  private List<Address> targets() {
    List<Address> targets = new ArrayList<>(drivers);
    targets.addAll(liveWorkers.get());
    return targets;
  }

  /** What a failed notice to {@code a} does: a driver that does not answer is forgotten. */
  private Consumer<Throwable> noticeFailed(Address a, String what) {
    return t -> {
      if (drivers.remove(a)) {
        objectStoreService.releaseClient(a.getWorkerId());
        log.info(
            "driver {} no longer answers ({}); it gets no more notices",
            Addresses.workerId(a),
            t.toString());
      } else {
        log.debug("{} to {} failed: {}", what, Addresses.target(a), t.toString());
      }
    };
  }
}
