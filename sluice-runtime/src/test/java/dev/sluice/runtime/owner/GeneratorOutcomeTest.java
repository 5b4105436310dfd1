package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.generator.GeneratorIds;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The outcome of a streaming generator task on the owner's side, with {@link TaskManager} and a
 * real reference table: the generator's own ref exists from the moment the task is recorded, so a
 * final reply that arrives before the consumer looks at {@code completed()} keeps the task's
 * outcome, and reading it later never finds the object lost (which would run the task again through
 * lineage reconstruction).
 */
@Timeout(10)
class GeneratorOutcomeTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(3)), 1);
  private static final ObjectId GENERATOR = GeneratorIds.generatorId(TASK);

  private final MemoryStore store = new MemoryStore();
  private final ReferenceCounter refs =
      new ReferenceCounter(
          Address.getDefaultInstance(),
          store,
          (owner, id, borrower, delta) -> CompletableFuture.completedFuture(null),
          (id, where) -> {});
  private final List<TaskSpec> resubmitted = new ArrayList<>();
  private final TaskManager tasks =
      new TaskManager(
          store,
          refs,
          where -> false,
          (id, where) -> {},
          (id, where) -> {},
          SluiceMetrics.disabled());

  GeneratorOutcomeTest() {
    tasks.setResubmitter(resubmitted::add);
  }

  private static TaskSpec generatorSpec() {
    return TaskSpec.newBuilder()
        .setTaskId(ByteString.copyFrom(TASK.toBytes()))
        .setDisplayName("oneItem")
        .setNumReturns(1)
        .setStreamingGenerator(true)
        .setMaxRetries(3)
        .build();
  }

  /** The final reply of a generator that streamed nothing and returned normally. */
  private static PushTaskReply finished() {
    return PushTaskReply.newBuilder()
        .addReturns(
            ReturnObject.newBuilder()
                .setObjectId(ByteString.copyFrom(GENERATOR.toBytes()))
                .setValue(ObjectValue.newBuilder().setData(ByteString.copyFromUtf8("done"))))
        .build();
  }

  @Test
  void finalReplyBeforeTheConsumerAsksForCompletedKeepsTheOutcome() {
    ObjectRefGeneratorImpl<Integer> gen =
        tasks.addStreamingTask(generatorSpec(), Address.getDefaultInstance(), List.of(), b -> {});

    // The task finishes before the submitting thread has done anything more with the generator.
    tasks.complete(TASK, finished());

    assertThat(gen.completed().id()).isEqualTo(GENERATOR);
    CompletableFuture<ObjectValue> outcome = store.find(GENERATOR);
    assertThat(outcome)
        .as("the generator's outcome is still held for its ref, not dropped as unreferenced")
        .isNotNull()
        .isCompleted();
    assertThat(outcome.join().getData().toStringUtf8()).isEqualTo("done");
    assertThat(resubmitted).as("no run besides the first").isEmpty();
  }
}
