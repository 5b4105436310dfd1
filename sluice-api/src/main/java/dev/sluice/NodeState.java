package dev.sluice;

import java.util.Map;

/**
 * One node of the cluster, as {@code sluice list nodes} and {@link ClusterState#nodes} show it
 * (Ray's {@code NodeState}), from what the control service knows and the node's last heartbeat.
 *
 * @param nodeId the node
 * @param state {@code ALIVE} or {@code DEAD}
 * @param head true for the head node (the one next to the control service)
 * @param address the node manager's {@code host:port}
 * @param pid the node manager's process id
 * @param resourcesTotal every resource the node has (e.g. {@code CPU}, custom ones)
 * @param resourcesAvailable the resources not held by tasks and actors, as of the last heartbeat
 * @param workers worker processes the node runs
 * @param objectStoreCapacityBytes capacity of the node's shared-memory object store
 * @param objectStoreUsedBytes bytes allocated in that store
 * @param objectStoreObjects objects held in that store
 * @param spilledBytes bytes of the node's objects spilled to its local disk
 * @param deathReason why the node died; null while it is alive
 */
public record NodeState(
    NodeId nodeId,
    String state,
    boolean head,
    String address,
    long pid,
    Map<String, Double> resourcesTotal,
    Map<String, Double> resourcesAvailable,
    int workers,
    long objectStoreCapacityBytes,
    long objectStoreUsedBytes,
    long objectStoreObjects,
    long spilledBytes,
    String deathReason) {
  /** Copies the maps. */
  public NodeState {
    resourcesTotal = Map.copyOf(resourcesTotal);
    resourcesAvailable = Map.copyOf(resourcesAvailable);
  }
}
