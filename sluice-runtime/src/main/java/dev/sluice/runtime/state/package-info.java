/**
 * The state API (DESIGN "Observing"): what {@code Sluice.state()} and {@code sluice list}, {@code
 * summary} and {@code timeline} show. Process side: {@link TaskEvents} records task attempts' state
 * changes into a bounded {@link TaskEventBuffer} (drops counted) and reports them in batches,
 * coalesced per attempt by a {@link TaskEventCoalescer}, with the counters of the streams the
 * process owns ({@link StreamSource}), through a {@link TaskEventClient}. Control service side:
 * {@link StateGrpcService} keeps recent attempts in a {@link TaskStore} (finished ones evicted
 * first beyond a cap) and streams in a {@link StreamTable} (rates from consecutive reports; a dead
 * owner's running streams marked OWNER_DIED), and answers listings, filtered and limited on the
 * public records ({@link StateFields}). Clients: {@link StateClient} (a {@code ClusterState} over
 * RPC), {@link StateProtos} (wire rows to records), {@link StateJson} and {@link TimelineWriter}
 * (Chrome trace).
 *
 * <p>Threads: see each class; recording never blocks on the network.
 *
 * <p>Depends on {@code rpc} only (and the public API); {@code owner}, {@code executor}, {@code
 * core} and {@code control} call it.
 */
package dev.sluice.runtime.state;
