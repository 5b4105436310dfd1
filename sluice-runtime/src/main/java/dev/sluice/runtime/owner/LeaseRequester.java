package dev.sluice.runtime.owner;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.CancelLeaseRequest;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.ReturnWorkerReply;
import dev.sluice.runtime.rpc.proto.ReturnWorkerRequest;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node-manager side of an owner's leases: sends the lease requests a key's plan asks for (after
 * the lease request delay, when one is set), follows redirects to other nodes up to {@link
 * #MAX_LEASE_REDIRECTS}, waits up to the unschedulable timeout for a node that can serve an
 * infeasible request, cancels requests no longer needed, and returns leases.
 *
 * <p>Threads: the request ids in flight and their targets are in a concurrent map; a key's state is
 * read and written under its {@link KeyState} monitor. Replies arrive on transport threads, timers
 * on the timer thread.
 */
final class LeaseRequester {
  private static final Logger log = LoggerFactory.getLogger(LeaseRequester.class);

  /**
   * How many times a lease request is sent on from node to node: the local node, the node a
   * preference names, and a node with the resources take two; more means the nodes disagree.
   */
  static final int MAX_LEASE_REDIRECTS = 4;

  /**
   * The node managers' lease calls (a seam for tests; {@link NodeManagerClient} over gRPC). Each
   * call is asynchronous and returns at once.
   */
  interface NodeManagers {
    /**
     * Asks the node manager at {@code target} for a lease: {@code reply} gets its answer, or {@code
     * failed} the failure of the call (on a transport thread, or inline).
     */
    void requestWorkerLease(
        String target,
        LeaseRequest request,
        Consumer<LeaseReply> reply,
        Consumer<Throwable> failed);

    /** Cancels a lease request; the answer is not awaited and a failure only logged. */
    void cancelWorkerLease(String target, CancelLeaseRequest request);

    /** Returns a lease; the future completes with the node manager's answer or the failure. */
    CompletableFuture<ReturnWorkerReply> returnWorker(String target, ReturnWorkerRequest request);

    /** The node managers reached over {@code channels}. */
    static NodeManagers over(ChannelPool channels) {
      return new NodeManagerClient(channels);
    }
  }

  /** What the requester asks of the submitter. */
  interface Events {
    /** Plans key {@code ks} (the caller holds its monitor); returns what to run after release. */
    @GuardedBy("ks")
    Runnable planLocked(KeyState ks);

    /**
     * A lease was granted and is wanted: add it to {@code ks} (the caller holds its monitor) and
     * return what to run after release.
     */
    @GuardedBy("ks")
    Runnable grantedLocked(KeyState ks, LeaseReply grant, String grantedBy);

    /** Task {@code spec} cannot be scheduled and fails with {@code error} (no retry). */
    void failTask(TaskSpec spec, ErrorInfo error);

    boolean closed();
  }

  private final NodeManagers nodeManagers;
  private final String nodeManagerTarget;
  private final Address self;
  private final ScheduledExecutorService timers;
  private final Duration unschedulableTimeout;
  private final Events events;

  /** The node manager each outstanding lease request was last sent to (for cancels). */
  private final ConcurrentHashMap<ByteString, String> requestTargets = new ConcurrentHashMap<>();

  private volatile Duration leaseRequestDelay = Duration.ZERO;

  /**
   * A requester that asks the node manager at {@code nodeManagerTarget} first; a request no node
   * can serve waits up to {@code unschedulableTimeout} for one that can (zero: fails at once).
   */
  LeaseRequester(
      NodeManagers nodeManagers,
      String nodeManagerTarget,
      Address self,
      ScheduledExecutorService timers,
      Duration unschedulableTimeout,
      Events events) {
    this.nodeManagers = nodeManagers;
    this.nodeManagerTarget = nodeManagerTarget;
    this.self = self;
    this.timers = timers;
    this.unschedulableTimeout = unschedulableTimeout;
    this.events = events;
  }

  void setLeaseRequestDelay(Duration delay) {
    this.leaseRequestDelay = delay;
  }

  /** Whether new lease requests wait for the deferral timer ({@link #requestDeferred}). */
  boolean defersRequests() {
    return !leaseRequestDelay.isZero();
  }

  /** After the lease request delay, plans {@code ks} with its lease requests due. */
  void requestDeferred(KeyState ks) {
    try {
      timers.schedule(
          () -> {
            Runnable actions;
            synchronized (ks) {
              ks.leaseRequestScheduled = false;
              ks.leaseRequestDue = true;
              try {
                actions = events.planLocked(ks);
              } finally {
                ks.leaseRequestDue = false;
              }
            }
            actions.run();
          },
          leaseRequestDelay.toNanos(),
          TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // shutting down
    }
  }

  /** Sends lease request {@code id} of key {@code ks} to the local node manager. */
  void requestLease(KeyState ks, ByteString id) {
    requestLease(ks, id, nodeManagerTarget, 0);
  }

  void cancelLeaseRequest(ByteString id) {
    String target = requestTargets.remove(id);
    if (target == null) {
      return;
    }
    nodeManagers.cancelWorkerLease(
        target, CancelLeaseRequest.newBuilder().setLeaseRequestId(id).build());
  }

  private void requestLease(KeyState ks, ByteString id, String target, int spillbacks) {
    LeaseRequest.Builder req =
        LeaseRequest.newBuilder()
            .setLeaseRequestId(id)
            .putAllResources(ks.resources)
            .setSchedulingKey(ks.key)
            .setJobId(ks.jobId)
            .setOwner(self)
            .setSpillbackCount(spillbacks);
    synchronized (ks) {
      TaskSpec next = ks.queue.peek();
      req.setDisplayName(next != null ? next.getDisplayName() : ks.key);
    }
    if (ks.affinity != null) {
      req.setNodeAffinity(ks.affinity);
    }
    requestTargets.put(id, target);
    nodeManagers.requestWorkerLease(
        target,
        req.build(),
        reply -> onLeaseReply(ks, id, reply, target, spillbacks),
        t -> {
          if (!target.equals(nodeManagerTarget) && !events.closed()) {
            // A node the request was sent on to is gone: ask the local node again once the
            // cluster had a moment to notice (it then routes around the dead node).
            log.debug(
                "node manager {} unreachable for a lease request ({}); asking {} again",
                target,
                t.toString(),
                nodeManagerTarget);
            requestLeaseLater(ks, id, 500);
            return;
          }
          onLeaseReply(
              ks,
              id,
              LeaseReply.newBuilder()
                  .setRejected(true)
                  .setFailureMessage("node manager at " + target + " unreachable: " + t)
                  .build(),
              target,
              spillbacks);
        });
  }

  private void onLeaseReply(
      KeyState ks, ByteString requestId, LeaseReply reply, String target, int spillbacks) {
    if (reply.hasSpillback()) {
      String next = Addresses.target(reply.getSpillback());
      synchronized (ks) {
        if (!ks.pendingLeaseRequests.contains(requestId) || events.closed()) {
          return;
        }
        if (spillbacks < MAX_LEASE_REDIRECTS) {
          requestLease(ks, requestId, next, spillbacks + 1);
          return;
        }
      }
      // Nodes that keep sending a request on to each other will not grant it: wait (and ask
      // the local node again later) or fail, as for a request no node can serve.
      onLeaseReply(
          ks,
          requestId,
          LeaseReply.newBuilder()
              .setRejected(true)
              .setInfeasible(true)
              .setFailureMessage(redirectsExhausted(ks, target, next))
              .build(),
          target,
          spillbacks);
      return;
    }
    Runnable actions;
    List<TaskSpec> failed = List.of();
    synchronized (ks) {
      if (reply.getInfeasible() && waitForFeasibleNode(ks, requestId, reply)) {
        return;
      }
      requestTargets.remove(requestId);
      boolean wanted = ks.pendingLeaseRequests.remove(requestId);
      if (reply.getCancelled()) {
        return;
      }
      if (reply.getRejected()) {
        if (ks.leases.isEmpty() && ks.pendingLeaseRequests.isEmpty()) {
          failed = new ArrayList<>(ks.queue);
          ks.queue.clear();
        }
        actions = () -> {};
      } else if (!wanted && ks.backlog() == 0) {
        // Granted after we stopped needing it (the cancel crossed the grant): give it back.
        actions = () -> returnLease(target, reply.getLeaseId(), false);
      } else {
        ks.infeasibleSinceNanos = -1;
        actions = events.grantedLocked(ks, reply, target);
      }
    }
    if (!failed.isEmpty()) {
      log.error(
          "cannot schedule {} task(s) needing {}: {}",
          failed.size(),
          ks.key,
          reply.getFailureMessage());
    }
    for (TaskSpec spec : failed) {
      ErrorType type = reply.getInfeasible() ? ErrorType.TASK_UNSCHEDULABLE : ErrorType.NODE_DIED;
      events.failTask(
          spec,
          Errors.error(
              type,
              "task "
                  + KeyState.taskId(spec)
                  + " ("
                  + spec.getDisplayName()
                  + ") cannot be scheduled: "
                  + reply.getFailureMessage()));
    }
    actions.run();
  }

  private static String redirectsExhausted(KeyState ks, String from, String to) {
    return "no node granted a worker for tasks needing "
        + new TreeMap<>(ks.resources)
        + (ks.affinity == null
            ? ""
            : " ("
                + (ks.affinity.getSoft() ? "preferring" : "pinned to")
                + " node "
                + NodeId.fromBytes(ks.affinity.getNodeId().toByteArray())
                + ")")
        + ": the lease request was sent on "
        + MAX_LEASE_REDIRECTS
        + " times between nodes, the"
        + " last time from node manager "
        + from
        + " to "
        + to;
  }

  /**
   * An infeasible reply: with a timeout, warns once and asks again every second (a node with the
   * resources may join) until the key has been infeasible for {@code unschedulableTimeout}. Returns
   * false when the tasks should fail now. Called under the key's monitor.
   */
  @GuardedBy("ks")
  private boolean waitForFeasibleNode(KeyState ks, ByteString requestId, LeaseReply reply) {
    if (unschedulableTimeout.isZero() || events.closed()) {
      return false;
    }
    long now = System.nanoTime();
    if (ks.infeasibleSinceNanos < 0) {
      ks.infeasibleSinceNanos = now;
      log.warn(
          "{} task(s) needing {} cannot be scheduled now: {}; waiting up to {} s for a node"
              + " that can serve them",
          ks.queue.size() + ks.leases.size(),
          ks.key,
          reply.getFailureMessage(),
          unschedulableTimeout.toSeconds());
    } else if (now - ks.infeasibleSinceNanos >= unschedulableTimeout.toNanos()) {
      return false;
    }
    requestLeaseLater(ks, requestId, 1000);
    return true;
  }

  /**
   * Sends lease request {@code id} to the local node again after {@code millis}, if still wanted.
   */
  private void requestLeaseLater(KeyState ks, ByteString id, long millis) {
    try {
      timers.schedule(
          () -> {
            synchronized (ks) {
              if (!ks.pendingLeaseRequests.contains(id) || events.closed()) {
                return;
              }
            }
            requestLease(ks, id, nodeManagerTarget, 0);
          },
          millis,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // shutting down
    }
  }

  /**
   * Returns lease {@code leaseId} to the node manager that granted it; {@code disconnect}: the
   * worker is not to be reused.
   */
  void returnLease(String grantedBy, ByteString leaseId, boolean disconnect) {
    try {
      nodeManagers
          .returnWorker(
              grantedBy,
              ReturnWorkerRequest.newBuilder()
                  .setLeaseId(leaseId)
                  .setDisconnectWorker(disconnect)
                  .build())
          .whenComplete(
              (reply, t) -> {
                if (t != null) {
                  log.debug("returning a lease failed: {}", t.toString());
                }
              });
    } catch (IllegalStateException e) {
      // shutting down
    }
  }

  /**
   * Has the node manager that granted {@code lease} kill its worker (saying {@code reason}) and
   * take the lease back; the future completes when it answered.
   */
  CompletableFuture<ReturnWorkerReply> killWorker(LeaseStream lease, String reason) {
    try {
      return nodeManagers.returnWorker(
          lease.grantedBy,
          ReturnWorkerRequest.newBuilder()
              .setLeaseId(lease.grant.getLeaseId())
              .setDisconnectWorker(true)
              .setKillReason(reason)
              .build());
    } catch (IllegalStateException e) {
      return CompletableFuture.failedFuture(e); // shutting down
    }
  }
}
