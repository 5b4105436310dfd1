package dev.sluice.runtime.storerpc;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.runtime.objectstore.StoreLocation;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;

/**
 * An object's {@link StoreLocation} to and from its protocol form, {@link SharedMemoryLocation}
 * (inside the {@link ObjectValue} that refers to a stored object). Stateless.
 */
public final class StoreLocations {
  /** A stand-in node id, cleared from the address it builds. */
  private static final NodeId NO_NODE = NodeId.fromBytes(new byte[NodeId.LENGTH]);

  private StoreLocations() {}

  /** The location {@code where} says. */
  public static StoreLocation of(SharedMemoryLocation where) {
    return new StoreLocation(
        where.getNodeId().isEmpty() ? null : NodeId.fromBytes(where.getNodeId().toByteArray()),
        where.hasNodeManager() ? Addresses.target(where.getNodeManager()) : null,
        where.getSize(),
        where.getRawBytes());
  }

  /** {@code location} in protocol form. */
  public static SharedMemoryLocation toProto(StoreLocation location) {
    SharedMemoryLocation.Builder b =
        SharedMemoryLocation.newBuilder()
            .setSize(location.size())
            .setRawBytes(location.raw())
            .setNodeId(nodeBytes(location.node()));
    if (location.nodeManager() != null) {
      b.setNodeManager(nodeManager(location));
    }
    return b.build();
  }

  /** A value that refers to the object stored at {@code location}. */
  public static ObjectValue value(StoreLocation location) {
    return ObjectValue.newBuilder().setShared(toProto(location)).build();
  }

  /** The address of the node manager that {@code location} names (which must name one). */
  static Address nodeManager(StoreLocation location) {
    if (location.node() != null) {
      return Addresses.ofNodeManager(location.node(), location.nodeManager());
    }
    // A location that does not say its node: the node manager's address, with no node id.
    return Addresses.ofNodeManager(NO_NODE, location.nodeManager()).toBuilder()
        .clearNodeId()
        .build();
  }

  private static ByteString nodeBytes(NodeId node) {
    return node == null ? ByteString.EMPTY : ByteString.copyFrom(node.toBytes());
  }
}
