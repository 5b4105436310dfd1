package dev.sluice.runtime.node;

import dev.sluice.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Settings of one node manager.
 *
 * @param nodeId the node's id
 * @param bindHost host the node manager and its workers bind to (loopback by default)
 * @param port node manager port, 0 for any free one
 * @param controlTarget the control service's {@code host:port}
 * @param resources total resources of the node, including {@code "CPU"}
 * @param numPrestartWorkers worker processes started up front
 * @param workerClassPath class path of worker processes
 * @param workerJvmOptions extra JVM options of worker processes
 * @param sessionDir the session directory; worker logs go to its {@code logs} folder
 * @param workerStartupTimeout how long a worker may take to register
 * @param serializationAllowList user package prefixes allowed in deserialization
 * @param inlineThresholdBytes values up to this size travel inline
 * @param maxMessageBytes the transport's message limit
 * @param heartbeatPeriod how often the node manager reports to the control service
 * @param objectStoreBytes capacity of the node's shared-memory object store
 * @param objectStoreDirectory where the store's file is created (a memory file system)
 * @param head true for the node that runs next to the control service
 * @param unschedulableTimeout how long its workers' tasks that no node can serve wait for one
 * @param objectDataChannel serve and pull objects over the plain TCP data channel (off: gRPC chunks
 *     only; it is always off with TLS)
 * @param objectPullMaxInFlightBytes bound of the bytes of objects being pulled from other nodes at
 *     once (one larger object is pulled alone)
 * @param maxExtraWorkers worker processes the node may run beyond {@code max(CPUs, prestarted)}
 */
public record NodeConfig(
    NodeId nodeId,
    String bindHost,
    int port,
    String controlTarget,
    Map<String, Double> resources,
    int numPrestartWorkers,
    List<Path> workerClassPath,
    List<String> workerJvmOptions,
    Path sessionDir,
    Duration workerStartupTimeout,
    List<String> serializationAllowList,
    int inlineThresholdBytes,
    int maxMessageBytes,
    Duration heartbeatPeriod,
    long objectStoreBytes,
    Path objectStoreDirectory,
    boolean head,
    Duration unschedulableTimeout,
    boolean objectDataChannel,
    long objectPullMaxInFlightBytes,
    int maxExtraWorkers) {

  /** The node's CPU count. */
  public double cpus() {
    return resources.getOrDefault("CPU", 0.0);
  }
}
