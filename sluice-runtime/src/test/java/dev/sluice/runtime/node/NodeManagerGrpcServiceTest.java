package dev.sluice.runtime.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.NodeAffinity;
import org.junit.jupiter.api.Test;

/**
 * The gRPC edge of the lease protocol: {@link NodeManagerGrpcService} turns the protocol's lease
 * request into the dispatcher's {@link WorkerLeaseRequest} and its {@link LeaseOutcome} into the
 * protocol's reply, field for field.
 */
class NodeManagerGrpcServiceTest {
  private static final ByteString WORKER = ByteString.copyFromUtf8("owner-worker");
  private static final ByteString NODE = ByteString.copyFromUtf8("owner-node");

  @Test
  void leaseRequest_everyFieldTheDispatcherReadsIsConverted() {
    LeaseRequest req =
        LeaseRequest.newBuilder()
            .setLeaseRequestId(ByteString.copyFromUtf8("r1"))
            .putResources("CPU", 2.0)
            .putResources("GPU", 0.0)
            .setJobId(ByteString.copyFromUtf8("job"))
            .setOwner(Address.newBuilder().setWorkerId(WORKER).setNodeId(NODE))
            .setDisplayName("f")
            .setSpillbackCount(1)
            .setNodeAffinity(NodeAffinity.newBuilder().setNodeId(NODE).setSoft(true))
            .build();

    WorkerLeaseRequest r = NodeManagerGrpcService.leaseRequest(req);

    assertThat(r.id().toStringUtf8()).isEqualTo("r1");
    assertThat(r.resources()).containsEntry("CPU", 2.0).containsEntry("GPU", 0.0);
    assertThat(Resources.need(r)).as("only positive amounts are needed").containsOnlyKeys("CPU");
    assertThat(r.jobId().toStringUtf8()).isEqualTo("job");
    assertThat(r.ownerWorkerId()).isEqualTo(WORKER);
    assertThat(r.ownerNodeId()).isEqualTo(NODE);
    assertThat(r.displayName()).isEqualTo("f");
    assertThat(r.spillbackCount()).isEqualTo(1);
    assertThat(r.affinity()).isEqualTo(new WorkerLeaseRequest.Affinity(NODE, true));
  }

  @Test
  void leaseRequest_withoutAffinityHasNone() {
    assertThat(NodeManagerGrpcService.leaseRequest(LeaseRequest.getDefaultInstance()).hasAffinity())
        .isFalse();
  }

  @Test
  void leaseReply_eachOutcomeSetsItsFlags() {
    Address worker = Address.newBuilder().setWorkerId(WORKER).setPort(7).build();
    LeaseReply granted =
        NodeManagerGrpcService.leaseReply(
            new LeaseOutcome.Granted(ByteString.copyFromUtf8("l1"), worker, 42));
    assertThat(granted.getLeaseId().toStringUtf8()).isEqualTo("l1");
    assertThat(granted.getWorker()).isEqualTo(worker);
    assertThat(granted.getWorkerPid()).isEqualTo(42);
    assertThat(granted.getRejected()).isFalse();

    LeaseReply spill = NodeManagerGrpcService.leaseReply(new LeaseOutcome.Spillback(worker));
    assertThat(spill.getSpillback()).isEqualTo(worker);
    assertThat(spill.getLeaseId()).isEmpty();

    for (LeaseOutcome.Reason reason : LeaseOutcome.Reason.values()) {
      LeaseReply r =
          NodeManagerGrpcService.leaseReply(new LeaseOutcome.Rejected(reason, "why " + reason));
      assertThat(r.getRejected()).isTrue();
      assertThat(r.getFailureMessage()).isEqualTo("why " + reason);
      assertThat(r.getInfeasible()).isEqualTo(reason == LeaseOutcome.Reason.INFEASIBLE);
      assertThat(r.getNodeDied()).isEqualTo(reason == LeaseOutcome.Reason.NODE_DIED);
      assertThat(r.getCancelled()).isEqualTo(reason == LeaseOutcome.Reason.CANCELLED);
    }
  }
}
