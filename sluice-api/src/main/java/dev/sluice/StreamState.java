package dev.sluice;

/**
 * One streaming generator (a generator task or generator actor method), as {@code sluice list
 * streams} and {@link ClusterState#streams} show it: how fast it flows and whether backpressure
 * holds it back. Its owner (the process that called {@code remote()}) reports the counters every
 * second; the control service computes the rates from consecutive reports.
 *
 * @param streamId the stream: the generator {@link ObjectRef}'s id ({@link
 *     ObjectRefGenerator#id()})
 * @param taskId the generator task
 * @param functionName the generator function or method, as {@code Class.method}
 * @param state {@code RUNNING} while the task may still produce items, then {@code FINISHED} or
 *     {@code FAILED}; {@code CLOSED} when the consumer closed the stream before its end; {@code
 *     OWNER_DIED} when its owner died while it ran (the control service learned that the owner's
 *     node died or its job ended)
 * @param ownerWorkerId the owner: the worker or driver that consumes the stream
 * @param ownerNodeId the owner's node
 * @param itemsProduced items the task reported so far
 * @param itemsConsumed items the owner took with {@code next()} so far
 * @param itemsHeld items produced but not consumed yet: what the stream buffers at its owner
 * @param backpressureWindow the cap on items held ({@link
 *     TaskOptions.Builder#generatorBackpressureNumObjects(int)}); -1 when off
 * @param stalledSeconds total seconds the producer was held back because {@code itemsHeld} reached
 *     {@code backpressureWindow}
 * @param producedPerSecond items produced per second over the last report interval
 * @param consumedPerSecond items consumed per second over the last report interval
 */
public record StreamState(
    ObjectId streamId,
    TaskId taskId,
    String functionName,
    String state,
    WorkerId ownerWorkerId,
    NodeId ownerNodeId,
    long itemsProduced,
    long itemsConsumed,
    long itemsHeld,
    int backpressureWindow,
    double stalledSeconds,
    double producedPerSecond,
    double consumedPerSecond) {}
