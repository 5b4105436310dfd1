package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.generator.SharedCredit;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.SharedCreditSlot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The owner's side of DESIGN "Shared credit" in a stream: a slot only for a producer of its own
 * node and a stream with a window, the cursor published on each consume, and the slot given back
 * whichever way the stream ends.
 */
class ObjectRefStreamSharedCreditTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(7)), 1);
  private static final ObjectId GENERATOR = ObjectId.of(TASK, 1);
  private static final Address OWNER =
      Address.newBuilder().setNodeId(ByteString.copyFrom(NodeId.random().toBytes())).build();
  private static final Address SAME_NODE = OWNER.toBuilder().setPort(7).build();
  private static final Address OTHER_NODE =
      Address.newBuilder().setNodeId(ByteString.copyFrom(NodeId.random().toBytes())).build();

  @TempDir Path dir;
  private SharedCreditSlots slots;

  private final ReferenceCounter refs =
      new ReferenceCounter(
          Address.getDefaultInstance(),
          new MemoryStore(),
          (owner, id, borrower, delta) -> CompletableFuture.completedFuture(null),
          (id, where) -> {});

  @AfterEach
  void close() {
    if (slots != null) {
      slots.close();
    }
  }

  private ObjectRefStream stream(int threshold) {
    if (slots == null) {
      slots = SharedCreditSlots.nextTo(dir.resolve("driver-1").toString());
    }
    return new ObjectRefStream(
        GENERATOR,
        OWNER,
        threshold,
        refs,
        () -> {},
        SluiceMetrics.disabled().streamItems(SluiceMetrics.Side.CONSUMED));
  }

  private static void report(ObjectRefStream s, long first, int count) {
    List<ReturnObject> items = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      items.add(
          ReturnObject.newBuilder()
              .setObjectId(ByteString.copyFrom(ObjectId.of(TASK, (int) (2 + first + i)).toBytes()))
              .setValue(ObjectValue.newBuilder().setData(ByteString.copyFromUtf8("v")))
              .build());
    }
    s.report(0, first, items, (consumed, notFound) -> {});
  }

  @Test
  void aSlotIsOfferedOnlyToAProducerOfTheOwnersNodeWithAWindow() {
    assertThat(stream(16).sharedCredit(slots, OTHER_NODE)).as("another node").isNull();
    assertThat(stream(-1).sharedCredit(slots, SAME_NODE)).as("no backpressure").isNull();
    assertThat(slots.inUse()).isZero();
    assertThat(stream(1).sharedCredit(slots, SAME_NODE)).as("a window of one").isNotNull();
    ObjectRefStream s = stream(16);
    SharedCreditSlot offered = s.sharedCredit(slots, SAME_NODE);
    assertThat(offered).isNotNull();
    assertThat(s.sharedCredit(slots, SAME_NODE))
        .as("a retry's first report gets the same slot")
        .isEqualTo(offered);
    assertThat(slots.inUse()).isEqualTo(2);
  }

  @Test
  void eachConsumePublishesTheCumulativeConsumedCount() {
    ObjectRefStream s = stream(16);
    report(s, 0, 3);
    assertThat(s.poll()).isNotNull();
    SharedCredit view = SharedCredit.open(s.sharedCredit(slots, SAME_NODE));
    assertThat(view.consumed()).as("the cursor when the slot was taken").isEqualTo(1);
    assertThat(s.poll()).isNotNull();
    assertThat(s.poll()).isNotNull();
    assertThat(view.consumed()).isEqualTo(3).isEqualTo(s.consumed());
  }

  @Test
  void theSlotIsFreedWhenTheStreamEnds() {
    ended(s -> s.markEnd(2));
  }

  @Test
  void theSlotIsFreedWhenTheStreamIsDeleted() {
    ended(ObjectRefStream::delete);
  }

  @Test
  void theSlotIsFreedWhenTheTaskFails() {
    ended(s -> s.fail(Errors.error(ErrorType.WORKER_DIED, "gone")));
  }

  private void ended(Consumer<ObjectRefStream> end) {
    ObjectRefStream s = stream(4);
    SharedCredit view = SharedCredit.open(s.sharedCredit(slots, SAME_NODE));
    report(s, 0, 2);
    s.poll();
    assertThat(view.consumed()).isEqualTo(1);
    end.accept(s);
    assertThat(slots.inUse()).isZero();
    assertThat(view.consumed()).as("a producer that outlived its stream reads none").isEqualTo(-1);
    assertThat(s.sharedCredit(slots, SAME_NODE)).as("no slot for an ended stream").isNull();
    assertThat(slots.inUse()).isZero();
  }
}
