/**
 * Nodes as processes of their own (DESIGN "Clusters and object transfer"): {@link NodeDaemon} is
 * the JVM that {@code sluice start} runs, a head (control service and node manager) or a node that
 * joins one; {@link DaemonConfig} is its command line; {@link ClusterCredentials} keeps the cluster
 * token file ({@code <session root>/clusters/<host>_<port>.token}, DESIGN "Security"). A head
 * serves the web dashboard its {@link DashboardSettings} ask for ({@code HeadDashboard}, DESIGN
 * "Dashboard"). {@link LocalCluster} starts several daemons on one machine for tests and
 * benchmarks.
 *
 * <p>Threads: a daemon's main thread starts the node and then waits; a shutdown hook stops it; with
 * {@code --exit-on-stdin-eof} one thread watches standard input and exits the daemon when its
 * parent goes away. The node's own threads are the node manager's and the control service's. {@link
 * LocalCluster} is thread-safe (its node list is copy-on-write).
 *
 * <p>Depends on {@code control}, {@code node}, {@code objectmanager}, {@code code}, {@code common},
 * {@code dashboard} and {@code rpc}. A daemon runs no core worker: it must not depend on {@code
 * core}, {@code owner}, {@code executor} or {@code driver}.
 */
package dev.sluice.runtime.daemon;
