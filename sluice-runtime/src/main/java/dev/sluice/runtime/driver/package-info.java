/**
 * A driver's runtime, what {@code Sluice.init} finds through {@link DriverRuntimeFactory} (DESIGN
 * "Architecture"). {@link DriverRuntime} forwards the API to the driver's core worker and stops
 * what the driver started, once, from {@code shutdown} or a JVM shutdown hook. Its two kinds:
 * {@link EmbeddedCluster} (no address: a control service and one node manager in this JVM, worker
 * JVMs as children) and {@link ClusterDriver} (joins a running cluster, attaches to a node on its
 * machine and ships its class path as code packages). {@link ClusterClient} makes their calls to
 * the cluster (the only class here that uses gRPC); {@link ConnectErrors} explains a failed first
 * call to a cluster (DESIGN "Security").
 *
 * <p>Threads: start-up and shutdown run on the caller's thread (or the {@code sluice-shutdown}
 * hook); everything after start runs in the components it started.
 *
 * <p>The top of the runtime: it may use every other package, and no other runtime package may
 * depend on it.
 */
package dev.sluice.runtime.driver;
