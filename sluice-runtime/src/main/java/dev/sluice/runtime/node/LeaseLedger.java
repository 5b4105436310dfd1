package dev.sluice.runtime.node;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A node's granted leases and the resources they leave available: charges a lease when it is
 * granted, gives its resources back when it is released, lends (and takes back) the CPU of leases
 * whose worker's tasks are all blocked (DESIGN "Nested tasks"), and returns a leased worker with no
 * lease left to the idle pool.
 *
 * <p>Threads: guarded by the node manager's lock, held by every caller ({@link LeaseDispatcher},
 * {@link OwnerDeaths}). Its fields are {@code @GuardedBy("lock")}; its package-private {@code
 * ...Locked} methods suppress that check, because the callers hold the same lock through their own
 * {@code lock} field, an alias Error Prone cannot see (as in {@link WorkerPool}).
 */
final class LeaseLedger {
  private final Object lock;
  private final WorkerPool pool;

  @GuardedBy("lock")
  private final Map<ByteString, Lease> leases = new HashMap<>();

  @GuardedBy("lock")
  private final Map<String, Double> available;

  LeaseLedger(NodeConfig config, Object lock, WorkerPool pool) {
    this.lock = lock;
    this.pool = pool;
    this.available = new HashMap<>(config.resources());
  }

  /** The node's resources not charged to a lease (live: callers may charge it). */
  @SuppressWarnings("GuardedBy") // see the class comment
  Map<String, Double> availableLocked() {
    return available;
  }

  /**
   * Grants {@code req} a lease of {@code worker} for {@code need}: charges it, records it and marks
   * the worker leased (for an actor's request, the actor's for good).
   */
  @SuppressWarnings("GuardedBy") // see the class comment
  Lease grantLocked(WorkerLeaseRequest req, Map<String, Double> need, WorkerProcess worker) {
    need.forEach((k, v) -> available.merge(k, -v, Double::sum));
    Lease lease =
        new Lease(
            ByteString.copyFromUtf8(UUID.randomUUID().toString()),
            worker,
            need,
            req.ownerWorkerId(),
            req.ownerNodeId(),
            req.actorId(),
            req.detached());
    leases.put(lease.id, lease);
    worker.state = WorkerProcess.State.LEASED;
    if (req.forActor()) {
      worker.forActor = true;
      worker.actorId = req.actorId();
    }
    return lease;
  }

  /** Removes lease {@code leaseId} (without releasing it); null if there is none. */
  @SuppressWarnings("GuardedBy") // see the class comment
  Lease removeLocked(ByteString leaseId) {
    return leases.remove(leaseId);
  }

  /** Every lease; removing through the iterator removes the lease (without releasing it). */
  @SuppressWarnings("GuardedBy") // see the class comment
  Iterator<Lease> iteratorLocked() {
    return leases.values().iterator();
  }

  /** A lease of the worker whose id is {@code workerId}, or null. */
  @SuppressWarnings("GuardedBy") // see the class comment
  Lease leaseOfWorkerLocked(ByteString workerId) {
    for (Lease l : leases.values()) {
      if (ByteString.copyFrom(l.worker.id.toBytes()).equals(workerId)) {
        return l;
      }
    }
    return null;
  }

  /** The leases worker {@code w} holds. */
  @SuppressWarnings("GuardedBy") // see the class comment
  List<Lease> leasesOfLocked(WorkerProcess w) {
    List<Lease> out = new ArrayList<>();
    for (Lease l : leases.values()) {
      if (l.worker == w) {
        out.add(l);
      }
    }
    return out;
  }

  /** Gives back the resources {@code lease} is charged (its CPU is not, if lent). */
  @SuppressWarnings("GuardedBy") // see the class comment
  void releaseLocked(Lease lease) {
    if (!lease.blocked) {
      lease.resources.forEach((k, v) -> available.merge(k, v, Double::sum));
    } else {
      lease.resources.forEach(
          (k, v) -> {
            if (!"CPU".equals(k)) {
              available.merge(k, v, Double::sum);
            }
          });
    }
  }

  /** Lends (or takes back) the CPU of lease {@code l}. */
  @SuppressWarnings("GuardedBy") // see the class comment
  void setLentLocked(Lease l, boolean lent) {
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
  @SuppressWarnings("GuardedBy") // see the class comment
  void settleWorkersLocked() {
    for (WorkerProcess w : pool.allLocked()) {
      if (w.state != WorkerProcess.State.LEASED) {
        continue;
      }
      List<Lease> held = leasesOfLocked(w);
      if (held.isEmpty()) {
        pool.idleLocked(w);
      } else if (!w.allBlocked && held.stream().allMatch(l -> l.blocked)) {
        setLentLocked(held.getLast(), false);
      }
    }
  }
}
