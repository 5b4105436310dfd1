package dev.sluice.runtime.dashboard;

import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.GetAllNodesRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import io.grpc.ManagedChannel;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The {@link ClusterView} of a head's dashboard: asks the head's own control service over one
 * channel, as any client of the cluster would (with the cluster's token). Called from the
 * dashboard's sampler thread only; the channel itself is thread-safe.
 */
public final class ControlStateClient implements ClusterView {
  private static final long DEADLINE_SECONDS = 5;

  private final ManagedChannel channel;

  /** A client of the control service at {@code controlTarget}. */
  public ControlStateClient(RpcFactory rpc, String controlTarget) {
    this.channel = rpc.newChannel(controlTarget);
  }

  @Override
  public List<NodeRow> nodes() {
    List<NodeInfo> infos =
        ControlServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
            .getAllNodes(GetAllNodesRequest.getDefaultInstance())
            .getNodesList();
    List<NodeRow> rows = new ArrayList<>(infos.size());
    for (NodeInfo n : infos) {
      rows.add(
          new NodeRow(
              HexFormat.of().formatHex(n.getNodeId().toByteArray()),
              Addresses.target(n.getNodeManager()),
              n.getIsHead(),
              n.getAlive(),
              new TreeMap<>(n.getResourcesTotalMap()),
              available(n),
              n.getLoad().getWorkers(),
              n.getObjectStoreCapacity(),
              n.getLoad().getStoreUsedBytes(),
              n.getLoad().getStoreObjects(),
              n.getLoad().getSpilledBytes(),
              n.getDeathReason()));
    }
    rows.sort(
        (a, b) -> a.head() != b.head() ? (a.head() ? -1 : 1) : a.nodeId().compareTo(b.nodeId()));
    return rows;
  }

  private static Map<String, Double> available(NodeInfo n) {
    return new TreeMap<>(n.getResourcesAvailableMap());
  }

  @Override
  public List<WorkerRow> workers() {
    return List.of();
  }

  @Override
  public List<TaskRow> tasks(int limit) {
    return List.of();
  }

  @Override
  public List<StreamRow> streams() {
    return List.of();
  }

  @Override
  public void close() {
    RpcFactory.shutdownQuietly(channel);
  }
}
