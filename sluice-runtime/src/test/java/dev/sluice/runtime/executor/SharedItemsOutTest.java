package dev.sluice.runtime.executor;

import static dev.sluice.runtime.executor.GeneratorWaiterTest.awaitCreditAsync;
import static dev.sluice.runtime.executor.GeneratorWaiterTest.consumed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.generator.SharedItems;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.owner.SharedCreditSlots;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The producer's side of DESIGN "Shared items": items go into the ring only while the owner polls
 * it and only if the ring can carry them; written items count as generated without a reply; and a
 * producer out of credit with no report outstanding reports again the items not drained, and at
 * least its last, so a reply will come.
 */
class SharedItemsOutTest {
  private static final int WINDOW = 4;

  @TempDir Path dir;
  private SharedCreditSlots slots;
  private SharedCreditSlots.Slot slot;
  private GeneratorWaiter waiter;
  private final List<Long> resent = new CopyOnWriteArrayList<>();
  private SharedItemsOut out;

  @BeforeEach
  void setUp() {
    slots = SharedCreditSlots.nextTo(dir.resolve("driver-1").toString());
    slot = slots.allocate(0);
    assertThat(slot.ring()).isNotNull();
    waiter = new GeneratorWaiter(WINDOW);
    // Item 0 went in a report, whose reply offered the slot and its ring.
    waiter.onIssued();
    waiter.onReply(consumed(0).toBuilder().setSharedCredit(slot.message()).build(), 1);
    assertThat(waiter.sharedItems()).isNotNull();
    out =
        new SharedItemsOut(
            0,
            waiter,
            (index, value) -> {
              resent.add(index);
              waiter.onResent();
              return true;
            },
            SluiceMetrics.disabled().streamItems(SluiceMetrics.Side.PRODUCED));
  }

  @AfterEach
  void close() {
    slots.close();
  }

  private static CompletableFuture<ReturnObject.Builder> inline(String v) {
    return CompletableFuture.completedFuture(
        ReturnObject.newBuilder()
            .setValue(ObjectValue.newBuilder().setData(ByteString.copyFromUtf8(v))));
  }

  @Test
  void itemsGoIntoTheRingOnlyWhileTheOwnerPollsAndOnlyIfItCanCarryThem() {
    assertThat(out.offer(1, inline("a"))).as("nobody polls").isFalse();
    slot.ring().polling(true);
    assertThat(out.offer(1, inline("a"))).isTrue();
    assertThat(out.offer(2, new CompletableFuture<>())).as("not sealed yet").isFalse();
    assertThat(out.offer(2, inline("x".repeat(SharedItems.PAYLOAD_BYTES)))).as("too big").isFalse();
    CompletableFuture<ReturnObject.Builder> stored =
        CompletableFuture.completedFuture(
            ReturnObject.newBuilder()
                .setValue(
                    ObjectValue.newBuilder()
                        .setShared(SharedMemoryLocation.newBuilder().setSize(1 << 20))));
    assertThat(out.offer(2, stored)).as("in the store").isFalse();
    assertThat(waiter.generated()).as("item 0 reported, item 1 written").isEqualTo(2);
  }

  @Test
  void aProducerOutOfCreditWithNoReportOutstandingReportsAgainWhatWasNotDrained() throws Exception {
    slot.ring().polling(true);
    for (int i = 1; i < WINDOW; i++) {
      assertThat(out.offer(i, inline("v" + i))).isTrue();
    }
    assertThat(waiter.creditExhausted()).isTrue();
    // The owner drained item 1 only (say a torn entry stopped it at item 2).
    List<Long> drained = new CopyOnWriteArrayList<>();
    slot.ring().drain(0, (index, attempt, payload) -> drained.add(index));
    assertThat(drained).containsExactly(1L, 2L, 3L);

    AtomicBoolean released = awaitCreditAsync(waiter);
    await().atMost(Duration.ofSeconds(5)).until(() -> !resent.isEmpty());
    assertThat(resent)
        .as("all were drained: the last only, whose reply the owner holds")
        .containsExactly(3L);
    assertThat(released).isFalse();
    waiter.onReply(consumed(2), 1);
    await().atMost(Duration.ofSeconds(5)).untilTrue(released);
  }

  @Test
  void itemsTheOwnerDidNotDrainAreReportedAgain() {
    slot.ring().polling(true);
    for (int i = 1; i < WINDOW; i++) {
      assertThat(out.offer(i, inline("v" + i))).isTrue();
    }
    AtomicBoolean released = awaitCreditAsync(waiter);
    await().atMost(Duration.ofSeconds(5)).until(() -> resent.size() == 3);
    assertThat(resent).containsExactly(1L, 2L, 3L);
    waiter.onReply(consumed(4), 3);
    await().atMost(Duration.ofSeconds(5)).untilTrue(released);
  }

  @Test
  void beforeTheFinalReplyItemsTheOwnerDidNotDrainAreReportedAgain() {
    slot.ring().polling(true);
    assertThat(out.offer(1, inline("a"))).isTrue();
    assertThat(out.offer(2, inline("b"))).isTrue();
    // The owner's drain stopped after item 1 (say at an entry it could not take).
    slot.ring().drain(0, (index, attempt, payload) -> index == 1);
    assertThat(out.flush()).isTrue();
    assertThat(resent).containsExactly(2L);
  }
}
