package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.generator.SharedItems;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The owner's side of DESIGN "Shared items" in a stream: items written into the ring are taken as
 * if reported (in order, stale attempts dropped), the ring is drained before the end is set, a
 * consumer about to rely on being woken clears the polling flag, and a spinning consumer takes its
 * items from the ring.
 */
class ObjectRefStreamSharedItemsTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(7)), 1);
  private static final ObjectId GENERATOR = ObjectId.of(TASK, 1);
  private static final Address OWNER =
      Address.newBuilder().setNodeId(ByteString.copyFrom(NodeId.random().toBytes())).build();
  private static final Address SAME_NODE = OWNER.toBuilder().setPort(7).build();

  @TempDir Path dir;
  private SharedCreditSlots slots;
  private ObjectRefStream stream;
  private SharedItems.Writer writer;

  private final MemoryStore store = new MemoryStore();
  private final ReferenceCounter refs =
      new ReferenceCounter(
          Address.getDefaultInstance(),
          store,
          (owner, id, borrower, delta) -> CompletableFuture.completedFuture(null),
          (id, where) -> {});

  @BeforeEach
  void setUp() {
    slots = SharedCreditSlots.nextTo(dir.resolve("driver-1").toString());
    stream =
        new ObjectRefStream(
            GENERATOR,
            OWNER,
            16,
            refs,
            () -> {},
            SluiceMetrics.disabled().streamItems(SluiceMetrics.Side.CONSUMED));
    // Item 0 came in a report; its reply offered the slot and the ring.
    stream.report(0, 0, List.of(item("v0")), (consumed, notFound) -> {});
    writer = SharedItems.open(stream.sharedCredit(slots, SAME_NODE));
    assertThat(writer).isNotNull();
  }

  @AfterEach
  void close() {
    slots.close();
  }

  private static ReturnObject item(String v) {
    return ReturnObject.newBuilder()
        .setValue(ObjectValue.newBuilder().setData(ByteString.copyFromUtf8(v)))
        .build();
  }

  private SharedItems.Writer.Offer write(long index, int attempt, String v) {
    byte[] b = item(v).toByteArray();
    return writer.offer(index, attempt, b, b.length);
  }

  private String valueOf(ObjectRefImpl<?> ref) {
    assertThat(ref).isNotNull();
    if (ref.carriedValue() != null) {
      return ref.carriedValue().getData().toStringUtf8();
    }
    return store.find(ref.id()).join().getData().toStringUtf8();
  }

  @Test
  void itemsWrittenIntoTheRingAreTakenAsIfReportedInOrder() {
    stream.ring().polling(true);
    assertThat(write(2, 0, "v2")).isEqualTo(SharedItems.Writer.Offer.WRITTEN);
    assertThat(write(1, 0, "v1")).isEqualTo(SharedItems.Writer.Offer.WRITTEN);
    assertThat(valueOf(stream.poll())).isEqualTo("v0");
    assertThat(valueOf(stream.poll())).isEqualTo("v1");
    assertThat(valueOf(stream.poll())).isEqualTo("v2");
    assertThat(stream.poll()).isNull();
  }

  @Test
  void theRingIsDrainedBeforeTheEndIsSet() {
    stream.ring().polling(true);
    write(1, 0, "v1");
    write(2, 0, "v2");
    stream.markEnd(3);
    assertThat(valueOf(stream.poll())).isEqualTo("v0");
    assertThat(valueOf(stream.poll())).isEqualTo("v1");
    assertThat(valueOf(stream.poll())).isEqualTo("v2");
    assertThat(stream.peek()).isEqualTo(ObjectRefStream.State.END);
    assertThat(write(3, 0, "late"))
        .as("the ring was freed")
        .isEqualTo(SharedItems.Writer.Offer.REFUSED);
  }

  @Test
  void itemsOfAStaleAttemptAreDropped() {
    stream.ring().polling(true);
    stream.poll();
    stream.setAttempt(1);
    write(1, 0, "old");
    assertThat(stream.peek()).isEqualTo(ObjectRefStream.State.NOT_READY);
    write(1, 1, "new");
    assertThat(valueOf(stream.poll())).isEqualTo("new");
  }

  @Test
  void aConsumerAboutToRelyOnBeingWokenClearsThePollingFlagAndDrainsFirst() {
    stream.ring().polling(true);
    stream.poll();
    write(1, 0, "v1");
    assertThat(stream.whenReady()).as("drained before it decided").isCompleted();
    assertThat(stream.ring().polling()).isFalse();
    assertThat(write(2, 0, "v2"))
        .as("the producer must report now")
        .isEqualTo(SharedItems.Writer.Offer.REFUSED);

    stream.ring().polling(true);
    stream.poll();
    CompletableFuture<ObjectRefImpl<?>> next = stream.pollAsync();
    assertThat(stream.ring().polling()).isFalse();
    assertThat(next).isNotDone();
  }

  @Test
  void deletingTheStreamGivesTheRingUp() {
    stream.ring().polling(true);
    stream.delete();
    assertThat(write(1, 0, "v1")).isEqualTo(SharedItems.Writer.Offer.REFUSED);
  }

  @Test
  void aSpinningConsumerTakesItsItemsFromTheRing() throws Exception {
    stream.poll();
    long takenBefore = SharedItems.itemsTaken();
    AtomicReference<String> got = new AtomicReference<>();
    Thread consumer =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    // Short waits: each spins (polling the ring) before it blocks.
                    while (stream.await(200_000) != ObjectRefStream.State.ITEM) {
                      Thread.onSpinWait();
                    }
                    got.set(valueOf(stream.poll()));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    // The ring takes a write only while the consumer spins (about 20 µs of each short wait): a
    // tight loop, not a poller whose every check costs more than that window on a busy machine.
    // UNSEEN is in the ring too (the consumer stopped spinning after the write, and drains the
    // ring before it blocks): writing the item again would wait for a consumer that is done.
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (write(1, 0, "v1") == SharedItems.Writer.Offer.REFUSED) {
      assertThat(System.nanoTime())
          .as("the consumer spun on the ring within 10 s")
          .isLessThan(deadline);
      Thread.onSpinWait();
    }
    consumer.join(10_000);
    assertThat(got.get()).isEqualTo("v1");
    assertThat(SharedItems.itemsTaken()).isGreaterThan(takenBefore);
  }

  @Test
  void aReportAfterTheTaskFailedLetsItsProducerGo() {
    stream.fail(
        dev.sluice.runtime.common.Errors.error(
            dev.sluice.runtime.rpc.proto.ErrorType.TASK_CANCELLED, "cancelled"));
    boolean[] notFound = new boolean[1];
    stream.report(0, 1, List.of(item("v1")), (consumed, gone) -> notFound[0] = gone);
    assertThat(notFound[0]).as("a producer out of credit resending is let go").isTrue();
  }
}
