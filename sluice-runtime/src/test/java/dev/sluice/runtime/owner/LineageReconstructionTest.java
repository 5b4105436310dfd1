package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Lineage reconstruction against fake task records: a lost output of a finished task is rebuilt by
 * its next attempt within the retries left; calls for one object share one rebuild; put objects,
 * evicted or exhausted lineage and indexes past the task's returns cannot be rebuilt; a running
 * task is rebuilt when its attempt ends, or the rebuild fails with that attempt's error (or as
 * lost); a value reported again replaces a held one only if the held copy is lost.
 */
@Timeout(10)
class LineageReconstructionTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(9)), 1);
  private static final ObjectId OUT = ObjectId.of(TASK, 1);
  private static final SharedMemoryLocation ON_A = at(NodeId.random());
  private static final SharedMemoryLocation ON_B = at(NodeId.random());

  /** One rebuild run recorded as pending. */
  record Rebuild(TaskSpec spec, int retriesLeft) {}

  /** Fake task records: which tasks run, and what was recorded and resubmitted. */
  private final Set<TaskId> running = new HashSet<>();

  private final List<Rebuild> added = new CopyOnWriteArrayList<>();
  private final List<TaskSpec> resubmitted = new CopyOnWriteArrayList<>();
  private final Set<ObjectId> referenced = new HashSet<>();
  private final Set<SharedMemoryLocation> lost = new HashSet<>();
  private final List<SharedMemoryLocation> deletedCopies = new CopyOnWriteArrayList<>();
  private final MemoryStore store = new MemoryStore();

  private final LineageReconstruction rebuilds =
      new LineageReconstruction(
          new Lineage(1 << 20),
          store,
          referenced::contains,
          lost::contains,
          (id, where) -> deletedCopies.add(where),
          new LineageReconstruction.Tasks() {
            @Override
            public boolean isRunning(TaskId task) {
              return running.contains(task);
            }

            @Override
            public void addRebuild(TaskSpec spec, int retriesLeft) {
              added.add(new Rebuild(spec, retriesLeft));
            }

            @Override
            public void resubmit(TaskSpec spec) {
              resubmitted.add(spec);
            }
          });

  private static SharedMemoryLocation at(NodeId node) {
    return SharedMemoryLocation.newBuilder()
        .setNodeId(ByteString.copyFrom(node.toBytes()))
        .setSize(1 << 20)
        .build();
  }

  private static ObjectValue shared(SharedMemoryLocation where) {
    return ObjectValue.newBuilder().setShared(where).build();
  }

  private static TaskSpec spec(int numReturns) {
    return TaskSpec.newBuilder()
        .setTaskId(ByteString.copyFrom(TASK.toBytes()))
        .setDisplayName("f")
        .setNumReturns(numReturns)
        .setMaxRetries(3)
        .build();
  }

  @Test
  void aLostOutputOfAFinishedTaskIsRebuiltByItsNextAttemptWithinItsRetries() {
    rebuilds.afterFinal(TASK, spec(1), 2, null);

    CompletableFuture<ObjectValue> f = rebuilds.reconstruct(OUT);

    assertThat(resubmitted).hasSize(1);
    assertThat(resubmitted.get(0).getAttemptNumber()).isEqualTo(1);
    assertThat(added).containsExactly(new Rebuild(resubmitted.get(0), 1));
    assertThat(f).isNotDone();

    rebuilds.takeRebuilt(OUT, shared(ON_B));
    assertThat(f).isCompletedWithValue(shared(ON_B));
    assertThat(store.find(OUT)).isCompletedWithValue(shared(ON_B));
  }

  @Test
  void callsForOneObjectShareOneRebuild() {
    rebuilds.afterFinal(TASK, spec(1), 2, null);

    CompletableFuture<ObjectValue> first = rebuilds.reconstruct(OUT);
    CompletableFuture<ObjectValue> second = rebuilds.reconstruct(OUT);

    assertThat(second).isSameAs(first);
    assertThat(resubmitted).hasSize(1);
  }

  @Test
  void aPutObjectCannotBeRebuilt() {
    rebuilds.afterFinal(TASK, spec(1), 2, null);

    assertThat(rebuilds.reconstruct(ObjectId.of(TASK, ObjectId.PUT_INDEX_BASE + 1))).isNull();
    assertThat(resubmitted).isEmpty();
  }

  @Test
  void anOutputOfATaskNotInLineageCannotBeRebuilt() {
    assertThat(rebuilds.reconstruct(OUT)).isNull();
  }

  @Test
  void anOutputWhoseTaskHasNoRebuildsLeftCannotBeRebuilt() {
    rebuilds.afterFinal(TASK, spec(1), 0, null);

    assertThat(rebuilds.reconstruct(OUT)).isNull();
  }

  @Test
  void aFailedTaskIsNotKeptInLineage() {
    rebuilds.afterFinal(TASK, spec(1), 2, Errors.error(ErrorType.WORKER_DIED, "gone"));

    assertThat(rebuilds.reconstruct(OUT)).isNull();
  }

  @Test
  void anIndexPastTheTasksReturnsCannotBeRebuilt() {
    rebuilds.afterFinal(TASK, spec(1), 2, null);

    assertThat(rebuilds.reconstruct(ObjectId.of(TASK, 2))).isNull();
  }

  @Test
  void aRunningTaskIsRebuiltWhenItsCurrentAttemptEnds() {
    running.add(TASK);

    CompletableFuture<ObjectValue> f = rebuilds.reconstruct(OUT);
    assertThat(f).isNotDone();
    assertThat(resubmitted).as("not run twice").isEmpty();

    running.remove(TASK);
    rebuilds.afterFinal(TASK, spec(1), 1, null);
    assertThat(resubmitted).hasSize(1);
    assertThat(added.get(0).retriesLeft()).isZero();
  }

  @Test
  void aRebuildWaitingOnAnAttemptThatFailsFailsWithItsError() {
    running.add(TASK);
    CompletableFuture<ObjectValue> f = rebuilds.reconstruct(OUT);
    ErrorInfo error = Errors.error(ErrorType.WORKER_DIED, "worker died");

    rebuilds.afterFinal(TASK, spec(1), 0, error);

    assertThat(f).isCompletedWithValue(Errors.value(error));
    assertThat(resubmitted).isEmpty();
  }

  @Test
  void aRebuildWaitingOnAnAttemptWithNoRetriesLeftFailsAsLost() {
    running.add(TASK);
    CompletableFuture<ObjectValue> f = rebuilds.reconstruct(OUT);

    rebuilds.afterFinal(TASK, spec(1), 0, null);

    assertThat(f.join().getError().getType()).isEqualTo(ErrorType.OBJECT_LOST);
    assertThat(f.join().getError().getMessage()).contains(TASK.toString(), "(f)");
  }

  @Test
  void aValueReportedAgainReplacesAHeldValueWhoseCopyIsLost() {
    referenced.add(OUT);
    store.put(OUT, shared(ON_A));
    lost.add(ON_A);

    rebuilds.takeRebuilt(OUT, shared(ON_B));

    assertThat(store.find(OUT)).isCompletedWithValue(shared(ON_B));
    assertThat(deletedCopies).isEmpty();
  }

  @Test
  void anExtraCopyOfAHeldValueNotLostIsDeletedWhereItWasWritten() {
    referenced.add(OUT);
    store.put(OUT, shared(ON_A));

    rebuilds.takeRebuilt(OUT, shared(ON_B));

    assertThat(store.find(OUT)).isCompletedWithValue(shared(ON_A));
    assertThat(deletedCopies).containsExactly(ON_B);
  }

  @Test
  void aValueReportedAgainForAnUnreferencedObjectIsLeftAlone() {
    store.put(OUT, shared(ON_A));
    lost.add(ON_A);

    rebuilds.takeRebuilt(OUT, shared(ON_B));

    assertThat(store.find(OUT)).isCompletedWithValue(shared(ON_A));
    assertThat(deletedCopies).isEmpty();
  }
}
