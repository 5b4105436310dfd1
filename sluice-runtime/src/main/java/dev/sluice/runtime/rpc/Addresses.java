package dev.sluice.runtime.rpc;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.proto.Address;

/** Conversions between protocol addresses and ids and the {@code host:port} targets of channels. */
public final class Addresses {
  private Addresses() {}

  /** The channel target of {@code address}. */
  public static String target(Address address) {
    return address.getHost().startsWith(RpcFactory.IN_PROCESS_PREFIX)
        ? address.getHost()
        : address.getHost() + ":" + address.getPort();
  }

  /** An address for a core worker. */
  public static Address of(WorkerId worker, NodeId node, String host, int port) {
    return of(worker, node, host, port, "");
  }

  /**
   * An address for a core worker that also listens on the Unix domain socket {@code localSocket}
   * (empty: none), which processes of its node dial instead of {@code host:port}.
   */
  public static Address of(
      WorkerId worker, NodeId node, String host, int port, String localSocket) {
    return Address.newBuilder()
        .setWorkerId(ByteString.copyFrom(worker.toBytes()))
        .setNodeId(ByteString.copyFrom(node.toBytes()))
        .setHost(host)
        .setPort(port)
        .setLocalSocket(localSocket)
        .build();
  }

  /**
   * The address of the node manager of {@code node} reached at {@code target} ({@code host:port} or
   * {@code inproc:NAME}); the inverse of {@link #target}.
   */
  public static Address ofNodeManager(NodeId node, String target) {
    Address.Builder b = Address.newBuilder().setNodeId(ByteString.copyFrom(node.toBytes()));
    if (target.startsWith(RpcFactory.IN_PROCESS_PREFIX)) {
      return b.setHost(target).build();
    }
    int colon = target.lastIndexOf(':');
    return b.setHost(target.substring(0, colon))
        .setPort(Integer.parseInt(target.substring(colon + 1)))
        .build();
  }

  /** The worker id in {@code address}. */
  public static WorkerId workerId(Address address) {
    return WorkerId.fromBytes(address.getWorkerId().toByteArray());
  }

  /** The node id in {@code address}. */
  public static NodeId nodeId(Address address) {
    return NodeId.fromBytes(address.getNodeId().toByteArray());
  }

  /** Protobuf bytes of an id's byte form. */
  public static ByteString bytes(byte[] idBytes) {
    return ByteString.copyFrom(idBytes);
  }
}
