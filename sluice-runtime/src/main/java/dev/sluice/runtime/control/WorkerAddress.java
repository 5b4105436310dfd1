package dev.sluice.runtime.control;

import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import java.util.Objects;

/**
 * Where a worker process (a driver's or a task worker's) can be reached: the domain form of the
 * wire {@code Address} of a process, as the {@link ActorTable} keeps it for an actor's instance and
 * its creator. Immutable.
 *
 * @param workerId the process
 * @param nodeId the node it runs on
 * @param host the host its RPC server listens on
 * @param port that server's port
 */
public record WorkerAddress(WorkerId workerId, NodeId nodeId, String host, int port) {
  /** Checks that every part is present. */
  public WorkerAddress {
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(host, "host");
  }

  @Override
  public String toString() {
    return "worker " + workerId + " on node " + nodeId + " (" + host + ":" + port + ")";
  }
}
