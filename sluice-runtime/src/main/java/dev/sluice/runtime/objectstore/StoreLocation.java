package dev.sluice.runtime.objectstore;

import dev.sluice.NodeId;

/**
 * Where an object is stored: the shared-memory store of node {@code node}, whose node manager
 * serves it to other nodes at {@code nodeManager} (a channel target), under the object's own id.
 * The value refers to this location instead of carrying the bytes.
 *
 * @param node the node whose store holds the object; null if the location does not say
 * @param nodeManager that node's node manager ({@code host:port} or in-process name); null if the
 *     location does not name it (then the object cannot be fetched from there)
 * @param size the object's size in bytes
 * @param raw true if the object is a {@code byte[]} stored as is rather than serialized
 */
public record StoreLocation(NodeId node, String nodeManager, long size, boolean raw) {
  /** The node, as error messages name it. */
  public String describeNode() {
    return node == null ? "an unknown node" : "node " + node;
  }
}
