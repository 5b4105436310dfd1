package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failure diagnosis for leased workers: when a lease's worker fails (or its node is declared dead)
 * the tasks it had in flight are split by {@link LostTasks}; those that never started are queued
 * again without spending a retry, those that ran fail as retriable with {@code WORKER_DIED} or,
 * when the worker's node manager does not answer either, {@code NODE_DIED} (and every other lease
 * on that node is failed first).
 *
 * <p>Threads: called on transport threads; a key's state is changed under its {@link KeyState}
 * monitor, and the node probe runs on a virtual thread of its own.
 */
final class WorkerFailures {
  private static final Logger log = LoggerFactory.getLogger(WorkerFailures.class);

  private final TaskManager taskManager;
  private final SchedulingQueues queues;
  private final ChannelPool channels;
  private final LeaseRequester requester;
  private final Predicate<String> nodeManagerReachable;
  private final Function<KeyState, Runnable> planLocked;
  private final BooleanSupplier closed;

  /**
   * {@code nodeManagerReachable} tells a node's death from a worker's; {@code planLocked} plans a
   * key whose monitor the caller holds and returns what to run after release.
   */
  WorkerFailures(
      TaskManager taskManager,
      SchedulingQueues queues,
      ChannelPool channels,
      LeaseRequester requester,
      Predicate<String> nodeManagerReachable,
      Function<KeyState, Runnable> planLocked,
      BooleanSupplier closed) {
    this.taskManager = taskManager;
    this.queues = queues;
    this.channels = channels;
    this.requester = requester;
    this.nodeManagerReachable = nodeManagerReachable;
    this.planLocked = planLocked;
    this.closed = closed;
  }

  /**
   * A lease's worker failed. {@code nodeKnownDead} is true when the caller already knows the
   * worker's node died, or null to find out by probing the node's manager.
   */
  void onWorkerFailed(KeyState ks, LeaseStream lease, Throwable t, Boolean nodeKnownDead) {
    if (closed.getAsBoolean()) {
      return;
    }
    LostTasks lost;
    Runnable actions;
    synchronized (ks) {
      lost = ks.loseLease(lease);
      if (lost == null) {
        return;
      }
      actions = planLocked.apply(ks);
    }
    String worker = lease.describeWorker();
    if (!lost.isEmpty()) {
      log.warn(
          "{} failed with {} task(s) in flight ({} had not started and are queued again"
              + " without spending a retry): {}",
          worker,
          lost.size(),
          lost.neverStarted().size(),
          t.toString(),
          t.getCause());
    }
    channels.evict(Addresses.target(lease.grant.getWorker()));
    actions.run();
    if (lost.isEmpty()) {
      requester.returnLease(lease.grantedBy, lease.grant.getLeaseId(), true);
      return;
    }
    // Whether the worker's node died too decides the error: probe its node manager off the
    // transport thread (a dead node refuses or times out).
    Thread.ofVirtual()
        .name("sluice-worker-failure")
        .start(
            () -> {
              boolean nodeDied =
                  nodeKnownDead != null
                      ? nodeKnownDead
                      : !nodeManagerReachable.test(lease.grantedBy);
              if (!nodeDied) {
                requester.returnLease(lease.grantedBy, lease.grant.getLeaseId(), true);
              } else if (nodeKnownDead == null) {
                // Every other lease on that node is as good as dead: fail them first, so the
                // retries
                // below are not pipelined onto a worker that is about to go.
                failLeasesOn(
                    lease.grant.getWorker().getNodeId(),
                    "its node manager " + lease.grantedBy + " does not answer");
              }
              requeueNeverStarted(ks, lost.neverStarted());
              for (TaskSpec spec : lost.ran()) {
                TaskId id = KeyState.taskId(spec);
                String what =
                    "task "
                        + id
                        + " ("
                        + spec.getDisplayName()
                        + ", attempt "
                        + spec.getAttemptNumber()
                        + ") failed: ";
                taskManager.fail(
                    id,
                    nodeDied
                        ? Errors.error(
                            ErrorType.NODE_DIED,
                            what
                                + "node "
                                + Addresses.nodeId(lease.grant.getWorker())
                                + " (node manager "
                                + lease.grantedBy
                                + ") died while "
                                + worker
                                + " ran it ("
                                + t.getMessage()
                                + ")")
                        : Errors.error(
                            ErrorType.WORKER_DIED,
                            what
                                + worker
                                + " died or became unreachable while running it ("
                                + t.getMessage()
                                + ")"),
                    true);
              }
            });
  }

  /** Puts tasks that were lost with a worker before they started back at the queue's head. */
  private void requeueNeverStarted(KeyState ks, List<TaskSpec> specs) {
    if (specs.isEmpty()) {
      return;
    }
    Runnable actions;
    synchronized (ks) {
      if (closed.getAsBoolean()) {
        return;
      }
      ks.requeueFirst(specs);
      actions = planLocked.apply(ks);
    }
    actions.run();
  }

  /** Fails every lease on node {@code nodeId}, which died because {@code why}. */
  void failLeasesOn(ByteString nodeId, String why) {
    for (KeyState ks : queues.all()) {
      List<LeaseStream> onNode = new ArrayList<>();
      synchronized (ks) {
        for (LeaseStream l : ks.leases) {
          if (l.grant.getWorker().getNodeId().equals(nodeId)) {
            onNode.add(l);
          }
        }
      }
      for (LeaseStream l : onNode) {
        onWorkerFailed(
            ks,
            l,
            new IllegalStateException(
                "node " + NodeId.fromBytes(nodeId.toByteArray()) + " died: " + why),
            true);
      }
    }
  }
}
