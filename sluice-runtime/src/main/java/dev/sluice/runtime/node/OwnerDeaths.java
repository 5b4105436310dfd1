package dev.sluice.runtime.node;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases the leases that nobody will return because a worker or an owner died (DESIGN "Leases and
 * scheduling", "Actors"): the leases of a worker that exited; the leases a worker of this node held
 * as an owner (the leased workers' task streams broke with it, so they are free again); the leases
 * of owners on a node declared dead. The actor-lease rules: an owned actor's worker is stopped when
 * its creator dies, after the creator's death is reported, so the actor dies {@code OWNER_DIED}
 * rather than of a process death; a detached actor's lease survives its creator; the death of an
 * actor's worker is reported.
 *
 * <p>Threads: every method is called by the {@link LeaseDispatcher} holding the node manager's
 * lock, which also guards the {@link LeaseLedger} it changes. The {@code ...Locked} methods are
 * {@code @GuardedBy("lock")}-suppressed for the reason given in {@link WorkerPool}'s class comment:
 * the caller holds the same lock through its own {@code lock} field. The reports are made under the
 * lock; the {@link ActorWorkerDeaths} given at start-up must not block.
 */
final class OwnerDeaths {
  private static final Logger log = LoggerFactory.getLogger(OwnerDeaths.class);

  private final NodeConfig config;
  private final Object lock;

  @GuardedBy("lock")
  private final LeaseLedger ledger;

  /** Told when the worker of an actor exited, or an owned actor's creator died. */
  private ActorWorkerDeaths actorWorkerDeaths = (actor, worker, detail) -> {};

  /** Where the deaths of actors' workers are reported: the control service's actor table. */
  interface ActorWorkerDeaths {
    void died(ByteString actorId, WorkerId worker, String detail);

    /**
     * The creator of the owned actors {@code actorIds}, worker {@code creator}, died: report it,
     * then run {@code stop} (which stops their workers), so that their death is the creator's and
     * not a process death that might restart them.
     */
    default void creatorDied(List<ByteString> actorIds, WorkerId creator, Runnable stop) {
      stop.run();
    }
  }

  OwnerDeaths(NodeConfig config, Object lock, LeaseLedger ledger) {
    this.config = config;
    this.lock = lock;
    this.ledger = ledger;
  }

  /** Reports the deaths of actors' workers to {@code deaths}. Set once during start-up. */
  void reportTo(ActorWorkerDeaths deaths) {
    this.actorWorkerDeaths = deaths;
  }

  /**
   * Worker {@code w} exited: its leases, and those it held as an owner, are released (an owned
   * actor's worker is marked dead, a detached actor's lease kept); unless the node is {@code
   * closed}, the death of {@code w} if it was an actor's worker is reported, then its owned actors'
   * creator death, after which their workers are stopped.
   */
  @SuppressWarnings("GuardedBy") // see the class comment
  void workerExitedLocked(WorkerProcess w, boolean closed) {
    ByteString actorId = w.actorId;
    List<WorkerProcess> ownedActors = new ArrayList<>();
    ByteString deadId = ByteString.copyFrom(w.id.toBytes());
    for (Iterator<Lease> it = ledger.iteratorLocked(); it.hasNext(); ) {
      Lease l = it.next();
      if (l.worker == w) {
        ledger.releaseLocked(l);
        it.remove();
      } else if (l.ownerWorkerId.equals(deadId) && !l.actorId.isEmpty()) {
        if (!l.detached) {
          // An owned actor dies with its creator; a detached one outlives it.
          ledger.releaseLocked(l);
          l.worker.state = WorkerProcess.State.DEAD;
          ownedActors.add(l.worker);
          it.remove();
        }
      } else if (l.ownerWorkerId.equals(deadId)) {
        // The owner died holding this lease: nobody will return it. The leased worker's task
        // stream broke with the owner, so the worker is free again.
        ledger.releaseLocked(l);
        log.info("lease of worker {} released: its owner, worker {}, died", l.worker.id, w.id);
        it.remove();
      }
    }
    ledger.settleWorkersLocked();
    if (closed) {
      return;
    }
    if (!actorId.isEmpty()) {
      String detail =
          "its worker "
              + w.id
              + " (pid "
              + w.pid()
              + ") on node "
              + config.nodeId()
              + " exited with code "
              + w.process.exitValue();
      try {
        actorWorkerDeaths.died(actorId, w.id, detail);
      } catch (RuntimeException e) {
        log.warn("could not report the death of an actor's worker {}: {}", w.id, e.toString());
      }
    }
    if (!ownedActors.isEmpty()) {
      log.info(
          "stopping {} owned actor worker(s): their creator, worker {}, died",
          ownedActors.size(),
          w.id);
      actorWorkerDeaths.creatorDied(
          ownedActors.stream().map(o -> o.actorId).toList(),
          w.id,
          () -> ownedActors.forEach(o -> o.process.destroyForcibly()));
    }
  }

  /**
   * Leases whose owner ran on a node that {@code nodes} says died are released: nobody will return
   * them, and the owner's task streams broke with it, so the workers are free again. A detached
   * actor's lease outlives its creator.
   */
  @SuppressWarnings("GuardedBy") // see the class comment
  void nodesRefreshedLocked(List<NodeInfo> nodes) {
    Set<ByteString> dead = new HashSet<>();
    for (NodeInfo n : nodes) {
      if (!n.getAlive()) {
        dead.add(n.getNodeId());
      }
    }
    if (dead.isEmpty()) {
      return;
    }
    for (Iterator<Lease> it = ledger.iteratorLocked(); it.hasNext(); ) {
      Lease l = it.next();
      if (dead.contains(l.ownerNodeId) && !l.detached) { // a detached actor outlives its creator
        ledger.releaseLocked(l);
        log.info(
            "lease of worker {} released: its owner's node {} died",
            l.worker.id,
            NodeId.fromBytes(l.ownerNodeId.toByteArray()));
        it.remove();
      }
    }
    ledger.settleWorkersLocked();
  }
}
