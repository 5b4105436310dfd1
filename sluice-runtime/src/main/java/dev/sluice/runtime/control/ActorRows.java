package dev.sluice.runtime.control;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.ActorRow;
import java.util.List;

/**
 * The actor table's entries as the state API's rows ({@code sluice list actors}), in registration
 * order. Stateless.
 */
final class ActorRows {
  private ActorRows() {}

  static List<ActorRow> of(List<ActorEntry> entries) {
    return entries.stream().map(ActorRows::row).toList();
  }

  private static ActorRow row(ActorEntry e) {
    ActorRow.Builder b =
        ActorRow.newBuilder()
            .setActorId(ByteString.copyFrom(e.id().toBytes()))
            .setClassName(e.className())
            .setName(e.name())
            .setState(e.state().name())
            .setJobId(ByteString.copyFrom(e.id().jobId().toBytes()))
            .setLifetime(e.lifetime().name())
            .setNumRestarts(e.numRestarts())
            .setMaxRestarts(e.maxRestarts());
    if (e.nodeId() != null) {
      b.setNodeId(ByteString.copyFrom(e.nodeId().toBytes()));
    }
    if (e.address() != null && e.state() == ActorEntry.State.ALIVE) {
      b.setWorkerId(ByteString.copyFrom(e.address().workerId().toBytes()));
    }
    if (e.death() != null) {
      b.setDeathCause(e.death().message());
    }
    return b.build();
  }
}
