package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.NodeLoad;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lines of {@code sluice status}. */
class NodeTableTest {
  private static NodeInfo node(boolean head, boolean alive) {
    NodeId id = NodeId.random();
    NodeInfo.Builder b =
        NodeInfo.newBuilder()
            .setNodeId(ByteString.copyFrom(id.toBytes()))
            .setNodeManager(Addresses.ofNodeManager(id, "10.0.0.7:4567"))
            .setIsHead(head)
            .setAlive(alive)
            .putResourcesTotal("GPU", 2)
            .putResourcesTotal("CPU", 4)
            .putResourcesAvailable("GPU", 1.5)
            .putResourcesAvailable("CPU", 1)
            .setObjectStoreCapacity(64L << 20)
            .setLoad(
                NodeLoad.newBuilder()
                    .setWorkers(3)
                    .setStoreUsedBytes(3L << 19)
                    .setStoreObjects(5)
                    .setSpilledBytes(2048));
    if (!alive) {
      b.setDeathReason("no heartbeat for 10 s");
    }
    return b.build();
  }

  @Test
  void aLiveHeadShowsUseOfEachResourceAndTheStore() {
    NodeInfo n = node(true, true);
    String line = NodeTable.line(n);
    assertThat(line)
        .startsWith(
            NodeId.fromBytes(n.getNodeId().toByteArray()).hex().substring(0, 12)
                + " head ALIVE 10.0.0.7:4567");
    assertThat(line)
        .contains("CPU 3/4 GPU 0.5/2")
        .contains("workers 3")
        .contains("store 1.5 MiB/64.0 MiB (5 objects)")
        .contains("spilled 2.0 KiB")
        .doesNotContain("died");
  }

  @Test
  void aDeadNodeSaysWhy() {
    assertThat(NodeTable.line(node(false, false)))
        .contains(" DEAD ")
        .endsWith("died: no heartbeat for 10 s");
  }

  @Test
  void theListingPutsTheHeadFirst() {
    StringWriter out = new StringWriter();
    NodeTable.print(
        new PrintWriter(out, true),
        "10.0.0.7:6390",
        List.of(node(false, false), node(false, true), node(true, true)));
    List<String> lines = out.toString().lines().toList();
    assertThat(lines.getFirst()).isEqualTo("cluster at 10.0.0.7:6390: 3 nodes, 2 alive");
    assertThat(lines.get(1)).contains(" head ");
    assertThat(lines.get(2)).contains("ALIVE");
    assertThat(lines.get(3)).contains("DEAD");
  }
}
