package dev.sluice;

/**
 * A snapshot of the object storage seen by the calling process: its own reference table and memory
 * store, and its node's shared-memory store (with what that store has spilled to disk). Returned by
 * {@link Sluice#objectStoreStats()}; the numbers move as objects are created and freed, so tests
 * compare them after the work they measure has settled.
 *
 * @param referencedObjects objects this process holds references to (its reference table: owned
 *     objects still referenced anywhere, and objects it borrows)
 * @param memoryStoreObjects small objects whose values this process's memory store holds
 * @param sharedMemoryCapacityBytes capacity of the node's shared-memory store
 * @param sharedMemoryUsedBytes bytes allocated in the node's shared-memory store
 * @param sharedMemoryObjects objects held in the node's shared-memory store
 * @param spilledBytes bytes of the node's objects currently spilled to local disk
 * @param spilledObjects objects currently spilled to local disk
 */
public record ObjectStoreStats(
    long referencedObjects,
    long memoryStoreObjects,
    long sharedMemoryCapacityBytes,
    long sharedMemoryUsedBytes,
    long sharedMemoryObjects,
    long spilledBytes,
    long spilledObjects) {}
