package dev.sluice.runtime.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ActorDiedException;
import dev.sluice.ActorId;
import dev.sluice.ActorLifetime;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.SluiceException;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.common.ActorLifetimes;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.ActorState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The actor table's entries as they travel: every field and both enums keep their meaning. */
class ActorTableGrpcServiceTest {
  private static final WorkerAddress OWNER =
      new WorkerAddress(WorkerId.random(), NodeId.random(), "127.0.0.1", 4000);

  private static ActorEntry pending(ActorLifetime lifetime) {
    return ActorEntry.pending(
        ActorId.of(TaskId.forChild(TaskId.forDriver(JobId.of(7)), 1)),
        "counter",
        "com.example.Counter",
        OWNER,
        lifetime,
        2,
        -1,
        8);
  }

  @Test
  void anEntryKeepsItsFieldsOnTheWire() {
    for (ActorLifetime lifetime : ActorLifetime.values()) {
      ActorEntry e = pending(lifetime);
      ActorInfo info = ActorTableGrpcService.info(e);
      assertThat(info.getActorId().toByteArray()).isEqualTo(e.id().toBytes());
      assertThat(info.getName()).isEqualTo("counter");
      assertThat(info.getClassName()).isEqualTo("com.example.Counter");
      assertThat(info.getState()).isEqualTo(ActorState.ACTOR_STATE_PENDING);
      assertThat(info.getLifetime().name()).isEqualTo("ACTOR_LIFETIME_" + lifetime.name());
      assertThat(ActorLifetimes.fromWire(info.getLifetimeValue())).isEqualTo(lifetime);
      assertThat(info.getMaxRestarts()).isEqualTo(2);
      assertThat(info.getMaxTaskRetries()).isEqualTo(-1);
      assertThat(info.getMaxConcurrency()).isEqualTo(8);
      assertThat(info.getOwner().getPort()).isEqualTo(4000);
      assertThat(info.hasDeathCause()).isFalse();
    }
  }

  @Test
  void aDeathReachesCallersAsActorDiedExceptionWithItsReason() {
    ActorTable table = new ActorTable();
    ActorEntry e = pending(ActorLifetime.OWNED);
    table.register(e);
    ActorEntry dead = table.kill(e.id()).orElseThrow().entry();

    ActorInfo info = ActorTableGrpcService.info(dead);

    assertThat(info.getState()).isEqualTo(ActorState.ACTOR_STATE_DEAD);
    SluiceException thrown = Errors.toException(info.getDeathCause(), List.of());
    assertThat(thrown).isInstanceOf(ActorDiedException.class);
    assertThat(((ActorDiedException) thrown).reason()).isEqualTo(ActorDiedException.Reason.KILLED);
    assertThat(thrown.getMessage()).contains("com.example.Counter").contains("counter");
  }
}
