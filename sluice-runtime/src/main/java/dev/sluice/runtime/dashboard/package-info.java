/**
 * The cluster's web dashboard (DESIGN "Dashboard"), served by the head daemon: {@link
 * dev.sluice.runtime.dashboard.DashboardServer} owns the HTTP server (the JDK's {@code
 * com.sun.net.httpserver}), checks the cluster token on every request ({@code DashboardAuth}),
 * serves the pages from the class path ({@code StaticFiles}: this package's {@code static} folder
 * and the uPlot WebJar) and pushes one JSON snapshot a second over server-sent events ({@code
 * EventStream}). A {@code SnapshotSampler} thread reads the cluster through the state API ({@link
 * dev.sluice.ClusterState}; {@link dev.sluice.runtime.dashboard.ControlStateClient} asks the head's
 * own control service) and keeps the store usage history ({@code StoreHistory}) and which streams
 * are stalled ({@code StallTracker}). The Logs page's endpoints ({@code LogsApi}) find a log's node
 * ({@code LogLocator}) and read it through that node manager's log service ({@code NodeLogClient}).
 *
 * <p>Threads: one sampler thread; each request on a virtual thread of its own.
 *
 * <p>Depends on {@code rpc}, {@code state} and {@code logging} (file names) only: it is a client of
 * the control service and the node managers like any other; {@code daemon} starts it.
 */
package dev.sluice.runtime.dashboard;
