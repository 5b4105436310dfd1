package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spillback (Ray's hybrid policy, simplified): where a new lease request goes, and which waiting
 * requests are sent on to nodes that reported room, decided on the {@link ClusterView} of the last
 * heartbeat reply. Keeps the requests naming a node this node has not heard of yet, to route them
 * again when the view is refreshed.
 *
 * <p>Threads: guarded by the node manager's lock (every method is called holding it).
 */
final class LeaseRouter {
  private static final Logger log = LoggerFactory.getLogger(LeaseRouter.class);

  /** Where a request goes: queued here, parked until the next view, or answered now. */
  record Route(Kind kind, LeaseOutcome reply) {
    enum Kind {
      QUEUE,
      PARK,
      REPLY
    }

    static final Route QUEUE = new Route(Kind.QUEUE, null);
    static final Route PARK = new Route(Kind.PARK, null);

    static Route reply(LeaseOutcome reply) {
      return new Route(Kind.REPLY, reply);
    }
  }

  private final NodeConfig config;
  private final ByteString self;
  private final ClusterView clusterView;

  /**
   * Requests naming a node this node has not heard of yet (it may have joined since the last
   * heartbeat reply): routed again when the view is refreshed, for a few heartbeats at most.
   */
  private final List<PendingLease> awaitingView = new ArrayList<>();

  LeaseRouter(NodeConfig config) {
    this.config = config;
    this.self = ByteString.copyFrom(config.nodeId().toBytes());
    this.clusterView = new ClusterView(config.nodeId());
  }

  ClusterView viewLocked() {
    return clusterView;
  }

  /**
   * Where a new lease request goes: a node-affinity request to its node; a request this node can
   * never serve to a node that can; a request that does not fit in {@code available} now to a node
   * that reported room for it; everything else waits here ({@link Route#QUEUE}). A request naming a
   * node not heard of yet is parked ({@link Route#PARK}) and kept here.
   *
   * <p>A soft affinity (a preference, such as the locality of large arguments) never overrides
   * feasibility and is followed on the first hop only: a request is not sent to a preferred node
   * that can never serve it, nor back to it once it was sent on from there. Otherwise a preferred
   * node without a needed resource and the node with it would send the request to each other for as
   * long as the owner follows.
   */
  Route routeLocked(PendingLease p, Map<String, Double> available) {
    WorkerLeaseRequest r = p.request();
    Map<String, Double> need = Resources.need(r);
    if (r.hasAffinity() && !r.affinity().nodeId().equals(self)) {
      NodeInfo target = clusterView.node(r.affinity().nodeId());
      boolean soft = r.affinity().soft();
      if (target != null
          && target.getAlive()
          && (!soft || (r.spillbackCount() == 0 && ClusterView.canEverHold(target, need)))) {
        return Route.reply(spillback(p, target));
      }
      long viewWait =
          Math.max(TimeUnit.SECONDS.toNanos(10), 5 * config.heartbeatPeriod().toNanos());
      if (target == null && System.nanoTime() - p.arrivedNanos() < viewWait) {
        awaitingView.add(p);
        return Route.PARK;
      }
      if (!soft) {
        String why =
            target == null ? "is not in the cluster" : "is dead (" + target.getDeathReason() + ")";
        return Route.reply(
            new LeaseOutcome.Rejected(
                LeaseOutcome.Reason.NODE_DIED,
                "task "
                    + r.displayName()
                    + " must run on node "
                    + NodeId.fromBytes(r.affinity().nodeId().toByteArray())
                    + ", which "
                    + why));
      }
    }
    boolean pinnedHere = hardAffinityHere(r);
    String infeasible = infeasibility(need);
    if (infeasible != null) {
      NodeInfo target = pinnedHere ? null : clusterView.feasible(need);
      if (target != null) {
        return Route.reply(spillback(p, target));
      }
      String where =
          clusterView.isEmpty() || pinnedHere
              ? infeasible
              : "no node of the cluster has " + need + " in total (" + infeasible + ")";
      return Route.reply(new LeaseOutcome.Rejected(LeaseOutcome.Reason.INFEASIBLE, where));
    }
    if (r.spillbackCount() == 0 && !pinnedHere && !Resources.fits(need, available)) {
      NodeInfo target = clusterView.withAvailable(need);
      if (target != null) {
        return Route.reply(spillback(p, target));
      }
    }
    return Route.QUEUE;
  }

  /**
   * Sends lease requests that wait here for resources to nodes that reported them free: without it
   * a burst that landed on one node would wait there while others idle. A request is sent on once
   * at most ({@code spillback_count}), so requests never bounce between nodes. Removes the requests
   * sent on from {@code pending} and returns their replies.
   */
  List<Runnable> spillWaitingLocked(Iterable<PendingLease> pending, Map<String, Double> available) {
    List<Runnable> replies = new ArrayList<>();
    if (!pending.iterator().hasNext() || clusterView.isEmpty()) {
      return replies;
    }
    Map<String, Double> unpromised = new HashMap<>(available);
    for (Iterator<PendingLease> it = pending.iterator(); it.hasNext(); ) {
      PendingLease p = it.next();
      Map<String, Double> need = Resources.need(p.request());
      if (Resources.fits(need, unpromised)) {
        need.forEach((k, v) -> unpromised.merge(k, -v, Double::sum));
        continue;
      }
      if (p.request().spillbackCount() > 0 || hardAffinityHere(p.request())) {
        continue;
      }
      NodeInfo target = clusterView.withAvailable(need);
      if (target != null) {
        it.remove();
        LeaseOutcome r = spillback(p, target);
        replies.add(() -> p.answer(r));
      }
    }
    return replies;
  }

  /** The requests parked until the next view, which this returns and forgets. */
  List<PendingLease> takeParkedLocked() {
    List<PendingLease> parked = new ArrayList<>(awaitingView);
    awaitingView.clear();
    return parked;
  }

  /** The parked request of id {@code leaseRequestId}, removed, or null. */
  PendingLease removeParkedLocked(ByteString leaseRequestId) {
    for (Iterator<PendingLease> it = awaitingView.iterator(); it.hasNext(); ) {
      PendingLease p = it.next();
      if (p.request().id().equals(leaseRequestId)) {
        it.remove();
        return p;
      }
    }
    return null;
  }

  /** Why this node can never serve {@code need}, or null if it can. */
  String infeasibility(Map<String, Double> need) {
    for (Map.Entry<String, Double> e : need.entrySet()) {
      double total = config.resources().getOrDefault(e.getKey(), 0.0);
      if (e.getValue() > total + 1e-9) {
        return "task needs "
            + e.getKey()
            + "="
            + e.getValue()
            + " but node "
            + config.nodeId()
            + " has only "
            + total
            + " in total ("
            + config.resources()
            + ")";
      }
    }
    return null;
  }

  private boolean hardAffinityHere(WorkerLeaseRequest r) {
    return r.hasAffinity() && !r.affinity().soft() && r.affinity().nodeId().equals(self);
  }

  private LeaseOutcome spillback(PendingLease p, NodeInfo target) {
    clusterView.reserve(target, Resources.need(p.request()));
    log.debug(
        "lease request {} ({}) sent on to node {}",
        p.request().id().toStringUtf8(),
        p.request().displayName(),
        NodeId.fromBytes(target.getNodeId().toByteArray()));
    return new LeaseOutcome.Spillback(target.getNodeManager());
  }
}
