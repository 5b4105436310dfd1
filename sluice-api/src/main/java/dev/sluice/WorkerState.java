package dev.sluice;

/**
 * One worker process of a node, as {@code sluice list workers} and {@link ClusterState#workers}
 * show it (Ray's {@code WorkerState}), from what its node manager reports.
 *
 * @param workerId the worker
 * @param nodeId the node it runs on
 * @param state {@code STARTING}, {@code IDLE} (in the node's pool), {@code LEASED} (running tasks
 *     for an owner, or hosting an actor) or {@code DEAD}
 * @param pid its process id
 * @param address its core worker's {@code host:port}
 * @param jobId the job whose code it runs; null when it runs the node's own class path
 */
public record WorkerState(
    WorkerId workerId, NodeId nodeId, String state, long pid, String address, JobId jobId) {}
