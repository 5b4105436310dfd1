package dev.sluice;

/**
 * One object held in a node's shared-memory object store (or spilled from it), as {@code sluice
 * list objects} and {@link ClusterState#objects} show it. Small objects that live only in their
 * owner's memory are not listed. An object copied to several nodes has one row per node.
 *
 * @param objectId the object
 * @param nodeId the node whose store holds it
 * @param sizeBytes its size in the store
 * @param state {@code CREATED} (being written), {@code SEALED} (readable) or {@code SPILLED} (on
 *     the node's disk, restored when read)
 * @param pinned readers that hold it pinned right now
 * @param taskId the task that created it (for {@link Sluice#put} objects: the task or driver that
 *     put it)
 */
public record ObjectState(
    ObjectId objectId, NodeId nodeId, long sizeBytes, String state, int pinned, TaskId taskId) {}
