package dev.sluice.runtime.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Spillback decisions of {@link LeaseRouter} on a cluster view built from fake node entries. */
class LeaseRouterTest {
  private final NodeConfig config =
      new NodeConfig(
          NodeId.random(),
          "127.0.0.1",
          0,
          "127.0.0.1:1",
          Map.of("CPU", 1.0),
          0,
          List.of(),
          List.of(),
          Path.of("unused-session"),
          Duration.ofSeconds(30),
          List.of(),
          1024,
          1 << 20,
          Duration.ofSeconds(1),
          1 << 20,
          Path.of("unused-store"),
          false,
          Duration.ofSeconds(30),
          false,
          1 << 20,
          0);
  private final LeaseRouter router = new LeaseRouter(config);

  @Test
  void spillback_aRequestThatDoesNotFitHereGoesToTheNodeWithTheMostFreeCpu() {
    NodeInfo small = node(4, 1, 9001);
    NodeInfo big = node(4, 3, 9002);
    router.viewLocked().update(List.of(small, big));

    LeaseRouter.Route route = router.routeLocked(pending(request(1, 0)), Map.of("CPU", 0.0));

    assertThat(route.kind()).isEqualTo(LeaseRouter.Route.Kind.REPLY);
    assertThat(spillbackPort(route)).isEqualTo(9002);
  }

  @Test
  void spillback_aRequestSentOnOnceWaitsHere() {
    router.viewLocked().update(List.of(node(4, 4, 9001)));

    LeaseRouter.Route route = router.routeLocked(pending(request(1, 1)), Map.of("CPU", 0.0));

    assertThat(route).isEqualTo(LeaseRouter.Route.QUEUE);
  }

  @Test
  void softAffinity_neverOverridesFeasibility() {
    NodeInfo preferred = node(1, 1, 9001);
    NodeInfo able = node(8, 8, 9002);
    router.viewLocked().update(List.of(preferred, able));
    WorkerLeaseRequest r =
        request(4, 0, new WorkerLeaseRequest.Affinity(preferred.getNodeId(), true));

    LeaseRouter.Route route = router.routeLocked(pending(r), Map.of("CPU", 1.0));

    assertThat(spillbackPort(route))
        .as("sent to the node that can hold it, not the preferred one")
        .isEqualTo(9002);
  }

  @Test
  void hardAffinity_toANodeNotYetInTheViewIsParked() {
    WorkerLeaseRequest r =
        request(
            1,
            0,
            new WorkerLeaseRequest.Affinity(ByteString.copyFrom(NodeId.random().toBytes()), false));

    assertThat(router.routeLocked(pending(r), Map.of("CPU", 1.0)))
        .isEqualTo(LeaseRouter.Route.PARK);
    assertThat(router.takeParkedLocked()).hasSize(1);
  }

  private static NodeInfo node(double totalCpu, double freeCpu, int port) {
    ByteString id = ByteString.copyFrom(NodeId.random().toBytes());
    return NodeInfo.newBuilder()
        .setNodeId(id)
        .setAlive(true)
        .setNodeManager(Address.newBuilder().setNodeId(id).setHost("127.0.0.1").setPort(port))
        .putResourcesTotal("CPU", totalCpu)
        .putResourcesAvailable("CPU", freeCpu)
        .build();
  }

  private static WorkerLeaseRequest request(double cpu, int spillbackCount) {
    return request(cpu, spillbackCount, null);
  }

  private static WorkerLeaseRequest request(
      double cpu, int spillbackCount, WorkerLeaseRequest.Affinity affinity) {
    return new WorkerLeaseRequest(
        ByteString.copyFromUtf8("r"),
        Map.of("CPU", cpu),
        ByteString.EMPTY,
        ByteString.EMPTY,
        ByteString.EMPTY,
        "f",
        spillbackCount,
        affinity);
  }

  private static int spillbackPort(LeaseRouter.Route route) {
    assertThat(route.kind()).isEqualTo(LeaseRouter.Route.Kind.REPLY);
    return ((LeaseOutcome.Spillback) route.reply()).nodeManager().getPort();
  }

  private static PendingLease pending(WorkerLeaseRequest r) {
    return new PendingLease(r, outcome -> true);
  }
}
