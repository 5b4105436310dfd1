/**
 * Metrics of a Sluice process (README "Metrics", DESIGN "Metrics"): {@link
 * dev.sluice.runtime.metrics.SluiceMetrics} owns the Micrometer registry, the documented meters and
 * their names; {@link dev.sluice.runtime.metrics.MetricsServer} serves them in Prometheus text
 * format; {@link dev.sluice.runtime.metrics.PushedRpcTimes} carries a worker's RPC times to its
 * node. A leaf package: it depends on Micrometer only, and the packages that record (owner,
 * executor, node, control wiring) hold the meters they need.
 */
package dev.sluice.runtime.metrics;
