package dev.sluice.runtime.control;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectRefInfo;
import dev.sluice.runtime.rpc.proto.TaskArg;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import org.junit.jupiter.api.Test;

/**
 * Rule: the control service constructs a detached actor again only with arguments that still exist:
 * a value travels inline in the kept spec, an {@code ObjectRef} owned by the gone creator is lost
 * with it, and the restart fails naming that argument.
 */
class HeadActorCreatorTest {
  private static final WorkerId CREATOR = WorkerId.random();
  private static final ObjectId OBJECT =
      ObjectId.of(TaskId.forChild(TaskId.forDriver(JobId.of(3)), 1), 1);

  private static TaskArg ref(WorkerId owner) {
    return TaskArg.newBuilder()
        .setRef(
            ObjectRefInfo.newBuilder()
                .setObjectId(ByteString.copyFrom(OBJECT.toBytes()))
                .setOwner(Address.newBuilder().setWorkerId(ByteString.copyFrom(owner.toBytes()))))
        .build();
  }

  private static TaskArg value() {
    return TaskArg.newBuilder().setValue(ByteString.copyFromUtf8("inline")).build();
  }

  @Test
  void anArgumentOwnedByTheGoneCreatorIsLostAndNamed() {
    TaskSpec spec = TaskSpec.newBuilder().addArgs(value()).addArgs(ref(CREATOR)).build();

    assertThat(HeadActorCreator.lostArgument(spec, CREATOR))
        .hasValueSatisfying(
            why ->
                assertThat(why)
                    .contains("argument 2", OBJECT.toString(), CREATOR.toString())
                    .contains("owned by its creator", "lost"));
  }

  @Test
  void inlineValuesAndObjectsOfOtherOwnersAreKept() {
    TaskSpec spec = TaskSpec.newBuilder().addArgs(value()).addArgs(ref(WorkerId.random())).build();

    assertThat(HeadActorCreator.lostArgument(spec, CREATOR)).isEmpty();
  }
}
