package dev.sluice.runtime.dashboard;

import dev.sluice.ActorState;
import dev.sluice.ClusterState;
import dev.sluice.NodeId;
import dev.sluice.NodeState;
import dev.sluice.ObjectState;
import dev.sluice.StateQuery;
import dev.sluice.StreamState;
import dev.sluice.TaskState;
import dev.sluice.TaskSummary;
import dev.sluice.WorkerState;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.GetAllNodesRequest;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How a head's dashboard reads the cluster: a {@link ClusterState} over one channel to the head's
 * own control service, as any client of the cluster would (with the cluster's token). Owns the
 * channel. Thread-safe.
 */
public final class ControlStateClient implements ClusterState, AutoCloseable {
  private static final long DEADLINE_SECONDS = 5;

  private final ManagedChannel channel;

  /** A client of the control service at {@code controlTarget}. */
  public ControlStateClient(RpcFactory rpc, String controlTarget) {
    this.channel = rpc.newChannel(controlTarget);
  }

  @Override
  public List<NodeState> nodes(StateQuery query) {
    List<NodeInfo> infos =
        ControlServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
            .getAllNodes(GetAllNodesRequest.getDefaultInstance())
            .getNodesList();
    return infos.stream()
        .map(
            n ->
                new NodeState(
                    NodeId.fromHex(HexFormat.of().formatHex(n.getNodeId().toByteArray())),
                    n.getAlive() ? "ALIVE" : "DEAD",
                    n.getIsHead(),
                    Addresses.target(n.getNodeManager()),
                    n.getPid(),
                    Map.copyOf(n.getResourcesTotalMap()),
                    Map.copyOf(n.getResourcesAvailableMap()),
                    n.getLoad().getWorkers(),
                    n.getObjectStoreCapacity(),
                    n.getLoad().getStoreUsedBytes(),
                    n.getLoad().getStoreObjects(),
                    n.getLoad().getSpilledBytes(),
                    n.getAlive() ? null : n.getDeathReason()))
        .toList();
  }

  @Override
  public List<WorkerState> workers(StateQuery query) {
    return List.of();
  }

  @Override
  public List<TaskState> tasks(StateQuery query) {
    return List.of();
  }

  @Override
  public List<ObjectState> objects(StateQuery query) {
    return List.of();
  }

  @Override
  public List<StreamState> streams(StateQuery query) {
    return List.of();
  }

  @Override
  public List<ActorState> actors(StateQuery query) {
    return List.of();
  }

  @Override
  public TaskSummary summarizeTasks() {
    return new TaskSummary(Map.of(), 0, 0);
  }

  @Override
  public void timeline(Path file) {
    throw new UnsupportedOperationException("the dashboard writes no timeline");
  }

  @Override
  public void close() {
    RpcFactory.shutdownQuietly(channel);
  }
}
