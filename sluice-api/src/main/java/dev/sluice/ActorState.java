package dev.sluice;

/**
 * One actor, as {@code sluice list actors} and {@link ClusterState#actors} show it (Ray's {@code
 * ActorState}), from the control service's actor table.
 *
 * @param actorId the actor
 * @param className the actor's class
 * @param name its name ({@link ActorOptions.Builder#name(String)}); null when unnamed
 * @param state {@code PENDING} (being placed or constructed), {@code ALIVE}, {@code RESTARTING} or
 *     {@code DEAD}
 * @param jobId the job that created it
 * @param nodeId the node of its current instance; null while it has none
 * @param workerId the worker hosting its current instance; null while it has none
 * @param lifetime {@code OWNED} or {@code DETACHED}
 * @param numRestarts restarts so far
 * @param maxRestarts restarts allowed (-1: unlimited)
 * @param deathCause why it died, for {@code DEAD}; else null
 */
public record ActorState(
    ActorId actorId,
    String className,
    String name,
    String state,
    JobId jobId,
    NodeId nodeId,
    WorkerId workerId,
    String lifetime,
    int numRestarts,
    int maxRestarts,
    String deathCause) {}
