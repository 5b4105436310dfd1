package dev.sluice.runtime.storerpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.runtime.objectstore.StoreLocation;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import org.junit.jupiter.api.Test;

/**
 * An object's location to and from its protocol form ({@link StoreLocations}): nothing is lost
 * either way, and the source of a fetch is the node manager the location names, with its node.
 */
class StoreLocationsTest {
  private static final NodeId NODE = NodeId.random();

  @Test
  void aWrittenLocationSurvivesTheProtocolForm() {
    StoreLocation written = new StoreLocation(NODE, "10.0.0.7:4711", 5 << 20, true);

    SharedMemoryLocation wire = StoreLocations.toProto(written);

    assertThat(wire.getNodeId()).isEqualTo(ByteString.copyFrom(NODE.toBytes()));
    assertThat(wire.getNodeManager()).isEqualTo(Addresses.ofNodeManager(NODE, "10.0.0.7:4711"));
    assertThat(wire.getSize()).isEqualTo(5 << 20);
    assertThat(wire.getRawBytes()).isTrue();
    assertThat(StoreLocations.of(wire)).isEqualTo(written);
    assertThat(StoreLocations.value(written).getShared()).isEqualTo(wire);
  }

  @Test
  void anInProcessNodeManagerKeepsItsName() {
    StoreLocation written = new StoreLocation(NODE, "inproc:node-1", 100, false);

    assertThat(StoreLocations.of(StoreLocations.toProto(written))).isEqualTo(written);
  }

  @Test
  void aLocationThatNamesNoNodeManagerOrNodeSaysSo() {
    SharedMemoryLocation old = SharedMemoryLocation.newBuilder().setSize(64).build();

    StoreLocation where = StoreLocations.of(old);

    assertThat(where.node()).isNull();
    assertThat(where.nodeManager()).isNull();
    assertThat(where.describeNode()).isEqualTo("an unknown node");
    assertThat(StoreLocations.toProto(where)).isEqualTo(old);
  }

  @Test
  void theFetchSourceIsTheNamedNodeManagerWithTheLocationsNode() {
    SharedMemoryLocation wire =
        StoreLocations.toProto(new StoreLocation(NODE, "10.0.0.7:4711", 64, false));
    SharedMemoryLocation noNode = wire.toBuilder().clearNodeId().build();

    assertThat(StoreLocations.nodeManager(StoreLocations.of(wire)))
        .isEqualTo(wire.getNodeManager().toBuilder().setNodeId(wire.getNodeId()).build());
    assertThat(StoreLocations.nodeManager(StoreLocations.of(noNode)))
        .isEqualTo(noNode.getNodeManager().toBuilder().setNodeId(noNode.getNodeId()).build());
  }
}
