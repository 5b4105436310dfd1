/**
 * The node manager (Ray's raylet, DESIGN "Leases and scheduling"): {@link NodeManager} keeps the
 * node's pool of worker JVMs ({@link WorkerProcess}), grants worker leases against the node's
 * resources (CPU lending and the worker bound included, DESIGN "Nested tasks"), sends requests it
 * cannot serve on by spillback ({@link ClusterView}), heartbeats to the control service, and owns
 * the node's shared-memory store and object manager. Its {@link LeaseDispatcher} queues and grants
 * leases over the {@link LeaseLedger} (the granted leases and the available resources); {@link
 * OwnerDeaths} releases the leases of dead workers and owners, with the actor-lease rules. {@link
 * WorkerLaunchCache} keeps the workers' AOT caches and {@link ClassPathResolver} their class path
 * (DESIGN "Worker start-up"); {@link DriverWatch} and {@link FinishedJobObjects} free the objects
 * of jobs whose driver is gone. {@link NodeConfig} holds its settings. gRPC stays at the edges:
 * {@link NodeManagerGrpcService} serves the node's RPCs and converts lease requests and answers to
 * and from plain values ({@link WorkerLeaseRequest}, {@link LeaseOutcome}); {@link ControlClient}
 * and {@link WorkerNoticeClient} make the node's calls to the control service and to its processes.
 *
 * <p>Threads: RPC handlers run on transport threads; process exits arrive on the JDK's process
 * threads; one scheduler thread sends heartbeats and enforces start-up timeouts; a virtual thread
 * per new job fetches its code. All scheduling state is guarded by the node manager's {@code lock},
 * and replies and RPCs are sent after it is released.
 *
 * <p>Depends on {@code objectstore}, {@code storerpc}, {@code objectmanager}, {@code code}, {@code
 * common}, {@code rpc} and, for the launch contract only, {@code executor.WorkerConfig}. The node
 * manager runs no tasks and owns no objects: it must not depend on {@code core}, {@code owner},
 * {@code driver} or {@code daemon}.
 */
package dev.sluice.runtime.node;
