package dev.sluice.runtime.core;

import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Settings of one core worker.
 *
 * @param isWorker true in a worker process, false in a driver
 * @param jobId the driver's job (null in a worker: it runs tasks of the job that pushes them)
 * @param workerId this process's worker id
 * @param nodeId the node this process runs on
 * @param bindHost host this process's RPC server binds to
 * @param nodeManagerTarget the local node manager's {@code host:port}
 * @param serializationAllowList user package prefixes allowed in deserialization
 * @param inlineThresholdBytes values up to this size travel inline
 * @param maxMessageBytes the transport's message limit
 * @param maxTasksInFlightPerWorker tasks pipelined to one leased worker
 * @param leaseIdleTimeout how long an unused lease is kept before it is returned
 * @param objectStoreFile the node's shared-memory store file
 * @param objectStoreCapacity its capacity in bytes
 * @param controlTarget the control service's {@code host:port}, watched for node deaths
 * @param unschedulableTimeout how long a task no node can serve waits for one (zero: fails now)
 * @param cancelGracePeriod how long a cancelled task may take to stop before its worker is killed
 * @param sessionDir the node's session directory, whose {@code sockets} (a directory, or a link to
 *     a short one: {@code SocketDirectory}) holds this process's Unix domain socket listener for
 *     processes of its node; null: TCP only
 */
public record CoreWorkerOptions(
    boolean isWorker,
    JobId jobId,
    WorkerId workerId,
    NodeId nodeId,
    String bindHost,
    String nodeManagerTarget,
    List<String> serializationAllowList,
    int inlineThresholdBytes,
    int maxMessageBytes,
    int maxTasksInFlightPerWorker,
    Duration leaseIdleTimeout,
    Path objectStoreFile,
    long objectStoreCapacity,
    String controlTarget,
    Duration unschedulableTimeout,
    Duration cancelGracePeriod,
    Path sessionDir) {}
