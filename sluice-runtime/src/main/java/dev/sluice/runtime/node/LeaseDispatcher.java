package dev.sluice.runtime.node;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease queue of a node (Ray's local task manager): holds lease requests until a worker of the
 * request's job is free and the resources fit, grants them, takes leases back when they are
 * returned, undeliverable or orphaned (their owner died), and lends the CPUs of leases whose
 * worker's tasks are all blocked (the lending rule, DESIGN "Nested tasks").
 *
 * <p>Requests and answers are plain values ({@link WorkerLeaseRequest}, {@link LeaseOutcome}): the
 * protocol's messages are converted at the gRPC edge. Decisions produce the replies to send as
 * {@link Runnable}s, run by the caller after it released the lock; the public-facing methods (those
 * not named {@code ...Locked}) take the lock and run them themselves.
 *
 * <p>Its parts: the {@link LeaseLedger} holds the granted leases and the available resources, and
 * {@link OwnerDeaths} releases the leases of dead workers and owners (with the actor-lease rules);
 * both are called only from here, under the lock.
 *
 * <p>Threads: guarded by the node manager's lock, which is shared with the {@link WorkerPool}, the
 * {@link JobCodeCache}, the {@link LeaseRouter}, the {@link LeaseLedger} and the {@link
 * OwnerDeaths} it drives; there is no other lock, so no lock order. Its fields are
 * {@code @GuardedBy("lock")}; the {@code ...Locked} methods called from the node's other parts
 * suppress that check, as in {@link WorkerPool}.
 */
final class LeaseDispatcher {
  private static final Logger log = LoggerFactory.getLogger(LeaseDispatcher.class);

  private final NodeConfig config;
  private final String advertisedHost;
  private final Object lock;
  private final WorkerPool pool;

  @GuardedBy("lock")
  private final JobCodeCache jobCode;

  @GuardedBy("lock")
  private final LeaseRouter router;

  @GuardedBy("lock")
  private final ArrayDeque<PendingLease> pending = new ArrayDeque<>();

  @GuardedBy("lock")
  private final LeaseLedger ledger;

  @GuardedBy("lock")
  private final OwnerDeaths ownerDeaths;

  /** The worker key of the last grant: the job a warm spare is started for. */
  @GuardedBy("lock")
  private ByteString lastGrantedKey = ByteString.EMPTY;

  @GuardedBy("lock")
  private boolean closed;

  LeaseDispatcher(
      NodeConfig config,
      String advertisedHost,
      Object lock,
      WorkerPool pool,
      JobCodeCache jobCode,
      LeaseRouter router) {
    this.config = config;
    this.advertisedHost = advertisedHost;
    this.lock = lock;
    this.pool = pool;
    this.jobCode = jobCode;
    this.router = router;
    this.ledger = new LeaseLedger(config, lock, pool);
    this.ownerDeaths = new OwnerDeaths(config, lock, ledger);
  }

  /** Reports the deaths of actors' workers to {@code deaths}. Set once during start-up. */
  @SuppressWarnings("GuardedBy") // set once during start-up, before any lease
  void onActorWorkerDeath(OwnerDeaths.ActorWorkerDeaths deaths) {
    ownerDeaths.reportTo(deaths);
  }

  // ------------------------------------------------------------------ entry points (take the lock)

  /** A new lease request: routed, then queued here or answered. */
  void requestLease(WorkerLeaseRequest req, PendingLease.Reply out) {
    List<Runnable> replies;
    synchronized (lock) {
      PendingLease p = new PendingLease(req, out);
      if (closed) {
        replies = List.of(reject(p, "node is shutting down"));
      } else {
        replies = routeLocked(p);
      }
    }
    replies.forEach(Runnable::run);
  }

  /**
   * A lease is returned (by id; an empty id: the lease of worker {@code workerId}, whose owner's
   * connection broke); with {@code disconnect} its worker is killed. {@code answer} answers the
   * caller, after the kill and before the replies the freed resources allow.
   */
  void returnLease(
      ByteString leaseId,
      ByteString workerId,
      boolean disconnect,
      String killReason,
      Runnable answer) {
    List<Runnable> replies = List.of();
    WorkerProcess toKill = null;
    synchronized (lock) {
      Lease lease =
          leaseId.isEmpty() ? ledger.leaseOfWorkerLocked(workerId) : ledger.removeLocked(leaseId);
      if (leaseId.isEmpty()) {
        if (lease != null) {
          ledger.removeLocked(lease.id);
        }
        log.info(
            "worker {} lost its owner's connection: {}",
            WorkerId.fromBytes(workerId.toByteArray()),
            lease != null ? "lease released" : "no lease held");
      }
      if (lease != null) {
        ledger.releaseLocked(lease);
        if (disconnect || !lease.actorId.isEmpty()) {
          lease.worker.state = WorkerProcess.State.DEAD;
          toKill = lease.worker;
        }
        ledger.settleWorkersLocked();
        replies = dispatchLocked();
      }
    }
    if (toKill != null) {
      if (!killReason.isEmpty()) {
        log.info("killing worker {} (pid {}): {}", toKill.id, toKill.pid(), killReason);
      }
      toKill.process.destroyForcibly();
    }
    answer.run();
    replies.forEach(Runnable::run);
  }

  /** Cancels the waiting request {@code leaseRequestId}; false if it is not waiting here. */
  boolean cancel(ByteString leaseRequestId) {
    PendingLease found = null;
    synchronized (lock) {
      for (PendingLease p : pending) {
        if (p.request().id().equals(leaseRequestId)) {
          found = p;
          break;
        }
      }
      if (found != null) {
        pending.remove(found);
      } else {
        found = router.removeParkedLocked(leaseRequestId);
      }
    }
    if (found != null) {
      found.answer(
          new LeaseOutcome.Rejected(
              LeaseOutcome.Reason.CANCELLED, "lease request cancelled by its owner"));
    }
    return found != null;
  }

  /**
   * Worker {@code id} says whether every task it runs is blocked: if so its leases' CPUs are lent
   * and it may be leased again; when one resumes it is charged one lease again. {@code answer}
   * answers the worker before the replies the change allows.
   */
  void workerBlocked(WorkerId id, boolean blocked, Runnable answer) {
    List<Runnable> replies = List.of();
    synchronized (lock) {
      WorkerProcess w = pool.getLocked(id);
      if (w != null && w.allBlocked != blocked) {
        w.allBlocked = blocked;
        if (w.allBlocked) {
          ledger.leasesOfLocked(w).forEach(l -> ledger.setLentLocked(l, true));
        }
        ledger.settleWorkersLocked();
        replies = dispatchLocked();
      }
    }
    answer.run();
    replies.forEach(Runnable::run);
  }

  /**
   * Worker {@code id} registered on {@code port}: returns the replies its being idle allows (to run
   * after answering it), or null if it is unknown or already registered.
   */
  List<Runnable> workerRegistered(WorkerId id, int port, String localSocket) {
    synchronized (lock) {
      return pool.registeredLocked(id, port, localSocket) == null ? null : dispatchLocked();
    }
  }

  /**
   * Worker {@code w} exited: its leases, and those it held as an owner, are released; after too
   * many start failures in a row every waiting request is rejected.
   */
  void workerExited(WorkerProcess w) {
    List<Runnable> replies;
    synchronized (lock) {
      WorkerProcess.State previous = pool.exitedLocked(w);
      ownerDeaths.workerExitedLocked(w, closed);
      if (closed) {
        return;
      }
      pool.exitSeenLocked(w, previous);
      replies = new ArrayList<>();
      if (pool.failingToStartLocked()) {
        String msg =
            "worker processes on node "
                + config.nodeId()
                + " fail to start ("
                + pool.consecutiveStartFailuresLocked()
                + " in a row); last log "
                + w.logFile
                + ":\n"
                + w.logTail(30);
        while (!pending.isEmpty()) {
          replies.add(reject(pending.poll(), msg));
        }
      } else {
        if (pool.sizeLocked() < config.numPrestartWorkers()) {
          pool.launchLocked(ByteString.EMPTY, config.workerClassPath());
        }
        replies.addAll(dispatchLocked());
      }
    }
    replies.forEach(Runnable::run);
  }

  /**
   * A job's code is ready ({@code failure} null; {@code classPath} null: the node's), or cannot be
   * had: then the job's waiting requests are rejected naming the job and the failure.
   */
  void jobCodeFetched(ByteString job, List<Path> classPath, String failure) {
    List<Runnable> replies = new ArrayList<>();
    synchronized (lock) {
      if (failure != null) {
        jobCode.forgetLocked(job);
        for (Iterator<PendingLease> it = pending.iterator(); it.hasNext(); ) {
          PendingLease p = it.next();
          if (p.request().jobId().equals(job)) {
            it.remove();
            replies.add(reject(p, failure));
          }
        }
      } else {
        jobCode.readyLocked(job, classPath);
        if (!closed) {
          replies.addAll(dispatchLocked());
        }
      }
    }
    replies.forEach(Runnable::run);
  }

  /**
   * The cluster view was refreshed (a heartbeat reply): leases of owners on dead nodes are
   * released, parked requests routed again, waiting requests spilled to nodes with room.
   */
  void clusterViewRefreshed(List<NodeInfo> nodes) {
    List<Runnable> replies = new ArrayList<>();
    synchronized (lock) {
      router.viewLocked().update(nodes);
      ownerDeaths.nodesRefreshedLocked(nodes);
      for (PendingLease p : router.takeParkedLocked()) {
        LeaseRouter.Route route = router.routeLocked(p, ledger.availableLocked());
        switch (route.kind()) {
          case QUEUE -> pending.add(p);
          case REPLY -> replies.add(() -> p.answer(route.reply()));
          case PARK -> {}
        }
      }
      replies.addAll(router.spillWaitingLocked(pending, ledger.availableLocked()));
      replies.addAll(dispatchLocked());
    }
    replies.forEach(Runnable::run);
  }

  /** The node closes: no more grants or worker starts. Returns the waiting requests (to reject). */
  @SuppressWarnings("GuardedBy") // see the class comment
  List<PendingLease> closeLocked() {
    if (closed) {
      return null;
    }
    closed = true;
    List<PendingLease> waiting = new ArrayList<>(pending);
    waiting.addAll(router.takeParkedLocked());
    pending.clear();
    return waiting;
  }

  @SuppressWarnings("GuardedBy") // see the class comment
  Map<String, Double> availableLocked() {
    return ledger.availableLocked();
  }

  @SuppressWarnings("GuardedBy") // see the class comment
  int pendingCountLocked() {
    return pending.size();
  }

  // ------------------------------------------------------------------ scheduling (under lock)

  /** Routes a new request; returns the replies to send. */
  @GuardedBy("lock")
  private List<Runnable> routeLocked(PendingLease p) {
    LeaseRouter.Route route = router.routeLocked(p, ledger.availableLocked());
    return switch (route.kind()) {
      case PARK -> List.of();
      case REPLY -> List.of(() -> p.answer(route.reply()));
      case QUEUE -> {
        pending.add(p);
        yield dispatchLocked();
      }
    };
  }

  /** Grants what can be granted and starts workers for what is waiting; returns the replies. */
  @GuardedBy("lock")
  List<Runnable> dispatchLocked() {
    List<Runnable> replies = new ArrayList<>();
    Map<ByteString, Integer> waitingForWorker = new LinkedHashMap<>();
    Map<ByteString, Integer> waitingForActor = new LinkedHashMap<>();
    // Resources not yet promised: requests waiting for a worker to start count against it, so
    // that no more workers start than could ever be leased.
    Map<String, Double> unpromised = new HashMap<>(ledger.availableLocked());
    for (Iterator<PendingLease> it = pending.iterator(); it.hasNext(); ) {
      PendingLease p = it.next();
      Map<String, Double> need = Resources.need(p.request());
      String infeasible = router.infeasibility(need);
      if (infeasible != null) {
        it.remove();
        LeaseOutcome r = new LeaseOutcome.Rejected(LeaseOutcome.Reason.INFEASIBLE, infeasible);
        replies.add(() -> p.answer(r));
        continue;
      }
      ByteString key = jobCode.workerKeyLocked(p.request());
      if (key == null) {
        continue; // the job's code is being fetched; it promises nothing meanwhile
      }
      if (!Resources.fits(need, unpromised)) {
        continue;
      }
      need.forEach((k, v) -> unpromised.merge(k, -v, Double::sum));
      boolean forActor = p.request().forActor();
      WorkerProcess idle = forActor ? pool.idleForActorLocked(key) : pool.idleOfLocked(key);
      if (idle == null && forActor) {
        waitingForActor.merge(key, 1, Integer::sum);
        continue;
      }
      if (idle == null
          && pool.liveCountLocked() + waitingCount(waitingForWorker) >= pool.maxWorkers()) {
        // The lending rule: at the worker bound, a worker whose every task is blocked runs more
        // tasks on its lent CPU in the same JVM (DESIGN "Nested tasks"). Below the bound a JVM
        // of its own is started instead: tasks sharing a JVM share its fate.
        @SuppressWarnings("GuardedBy") // the pool calls it at once, under the lock held here
        ToIntFunction<WorkerProcess> leaseCount = w -> ledger.leasesOfLocked(w).size();
        idle = pool.lendingOfLocked(key, leaseCount);
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
      Lease lease = ledger.grantLocked(p.request(), need, idle);
      LeaseOutcome reply =
          new LeaseOutcome.Granted(
              lease.id,
              Addresses.of(idle.id, config.nodeId(), advertisedHost, idle.port, idle.localSocket),
              idle.pid());
      replies.add(
          () -> {
            if (!p.answer(reply)) {
              takeBackUndelivered(lease.id);
            }
          });
    }
    if (!closed) {
      JobCodeCache code = jobCode;
      pool.startActorWorkersLocked(waitingForActor, code::classPathLocked);
      pool.startWorkersLocked(
          waitingForWorker, lastGrantedKey, code::classPathLocked, pending.size(), replies);
    }
    return replies;
  }

  /**
   * A lease whose grant could not be delivered (its owner died while it waited) goes back at once:
   * nobody will ever use or return it.
   */
  private void takeBackUndelivered(ByteString leaseId) {
    List<Runnable> replies = List.of();
    synchronized (lock) {
      Lease lease = ledger.removeLocked(leaseId);
      if (lease != null) {
        log.info(
            "lease of worker {} taken back: its owner was gone when it was granted",
            lease.worker.id);
        ledger.releaseLocked(lease);
        ledger.settleWorkersLocked();
        if (!closed) {
          replies = dispatchLocked();
        }
      }
    }
    replies.forEach(Runnable::run);
  }

  // ------------------------------------------------------------------ helpers

  static Runnable reject(PendingLease p, String message) {
    LeaseOutcome r = new LeaseOutcome.Rejected(LeaseOutcome.Reason.FAILED, message);
    return () -> p.answer(r);
  }

  private static int waitingCount(Map<ByteString, Integer> waitingForWorker) {
    int n = 0;
    for (int v : waitingForWorker.values()) {
      n += v;
    }
    return n;
  }
}
