package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.List;
import java.util.Map;

/**
 * What one planning pass of a {@link KeyState} decided, carried out by the submitter after the
 * key's monitor is released, in this order: fail the {@code cancelled} tasks (taken off the queue
 * without being pushed), send the {@code pushes} (per lease, in order; the {@code stealVictim}'s
 * last message asks it to give its queued tasks back), start the deferral timer if {@code
 * deferLeaseRequests}, send the {@code newLeaseRequests} and cancel the {@code
 * cancelledLeaseRequests}.
 *
 * <p>Immutable, apart from the lease objects it names.
 */
record KeyPlan(
    List<TaskSpec> cancelled,
    Map<LeaseStream, List<PushTaskBatch>> pushes,
    LeaseStream stealVictim,
    boolean deferLeaseRequests,
    List<ByteString> newLeaseRequests,
    List<ByteString> cancelledLeaseRequests) {

  /** The tasks pushed to {@code lease}, in order. */
  List<TaskSpec> pushedTo(LeaseStream lease) {
    return pushes.getOrDefault(lease, List.of()).stream()
        .flatMap(b -> b.getTasksList().stream())
        .map(p -> p.getSpec())
        .toList();
  }
}
