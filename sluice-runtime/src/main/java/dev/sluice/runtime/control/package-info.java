/**
 * The cluster's control service (Ray's GCS), run on the head: {@link ControlService} keeps node
 * membership and health, the job table, a small key-value store and, with a {@code PackageStore},
 * the code packages drivers upload; {@link FinishedJobs} lists finished jobs so that nodes free
 * their objects; {@link ActorTable} decides every actor's state (the actor lifecycle rule, one
 * {@link ActorSlot} per actor), in domain records ({@link ActorEntry}) that the RPC layer
 * translates; {@link HeadActorCreator} constructs a detached actor again once its creator is gone.
 * All state is in memory; a restart forgets it. {@link ControlGrpcService} serves its RPCs: each
 * call becomes a call on {@link ControlService}, whose typed refusals become statuses; it is the
 * only class here that touches gRPC.
 *
 * <p>Threads: RPC handlers run on transport threads and only touch concurrent maps (package
 * look-ups that may index the head's class path go to virtual threads); one scheduler thread checks
 * heartbeats and marks a silent node dead for good (DESIGN "Failures"). Changes reach {@code
 * WatchNodes} subscribers under one lock, so a new watcher misses none.
 *
 * <p>Depends on {@code rpc}, {@code code} and {@code common}, and on the actor runtime's {@code
 * ActorLeaser} and {@code ActorCreationStream} (to construct detached actors). It knows nodes and
 * jobs as protocol messages: it must not depend on {@code node}, {@code core}, {@code owner} or
 * {@code daemon}, which reach it over RPC (DESIGN "Architecture", "Clusters and object transfer").
 */
package dev.sluice.runtime.control;
