package dev.sluice.runtime.core;

import dev.sluice.ObjectId;
import dev.sluice.runtime.objectstore.SharedMemoryClient;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;

/**
 * The shared-memory copies of the objects this process owns, as its owner tables see them: deleting
 * them when an object is freed (in this node's store directly, in another node's through its node
 * manager) and telling whether a copy is lost with its node.
 *
 * <p>Threads: any thread; never blocks (deletes on other nodes are sent without waiting).
 */
final class SharedCopies {
  private final SharedMemoryClient sharedStore;
  private final NodeManagerClient nodeManagers;
  private final Address self;
  private final NodeWatcher nodeWatcher;

  SharedCopies(
      SharedMemoryClient sharedStore,
      NodeManagerClient nodeManagers,
      Address self,
      NodeWatcher nodeWatcher) {
    this.sharedStore = sharedStore;
    this.nodeManagers = nodeManagers;
    this.self = self;
    this.nodeWatcher = nodeWatcher;
  }

  /**
   * Frees an owned object's shared-memory copies: the one in this node's store (primary or pulled),
   * and the primary in the producing node's store when that is another node. Copies pulled by third
   * nodes are secondary; their stores drop them when they need the room.
   */
  void deleteShared(ObjectId id, SharedMemoryLocation where) {
    sharedStore.delete(id);
    if (!isLocal(where)) {
      deleteCopyAt(id, where);
    }
  }

  /** Deletes the copy of {@code id} in the store of {@code where}'s node only. */
  void deleteCopyAt(ObjectId id, SharedMemoryLocation where) {
    if (isLocal(where)) {
      sharedStore.delete(id);
      return;
    }
    nodeManagers.deleteObject(
        Addresses.target(where.getNodeManager()),
        id,
        "delete of " + id + " on node " + Addresses.nodeId(where.getNodeManager()));
  }

  /** Whether the copy at {@code where} is gone: its node is known dead. */
  boolean isLost(SharedMemoryLocation where) {
    NodeInfo n = nodeWatcher.node(where.getNodeId());
    return n != null && !n.getAlive();
  }

  private boolean isLocal(SharedMemoryLocation where) {
    return where.getNodeId().isEmpty()
        || where.getNodeId().equals(self.getNodeId())
        || !where.hasNodeManager();
  }
}
