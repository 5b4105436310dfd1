package dev.sluice.runtime.executor;

import static dev.sluice.runtime.executor.GeneratorWaiterTest.awaitCreditAsync;
import static dev.sluice.runtime.executor.GeneratorWaiterTest.consumed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.owner.SharedCreditSlots;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturnsReply;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The producer's side of DESIGN "Shared credit": credit read in the owner's slot counts like the
 * replies' count (never more than the window in flight), and without it the producer waits for a
 * reply as before.
 */
class GeneratorWaiterSharedCreditTest {
  private static final int WINDOW = 16;

  @TempDir Path dir;
  private SharedCreditSlots slots;
  private SharedCreditSlots.Slot slot;

  @BeforeEach
  void slot() {
    slots = SharedCreditSlots.nextTo(dir.resolve("driver-1").toString());
    slot = slots.allocate(0);
  }

  @AfterEach
  void close() {
    slots.close();
  }

  /** A waiter whose first report's reply offered the slot, with a full window issued. */
  private GeneratorWaiter fullWindowWithSlot() {
    GeneratorWaiter w = new GeneratorWaiter(WINDOW);
    w.onIssued();
    w.onReply(consumed(0).toBuilder().setSharedCredit(slot.message()).build(), 1);
    assertThat(w.sharedCredit()).isTrue();
    for (int i = 1; i < WINDOW; i++) {
      w.onIssued();
    }
    assertThat(w.creditExhausted()).isTrue();
    return w;
  }

  @Test
  void creditPublishedInTheSlotLetsTheProducerGoWithoutAReply() throws Exception {
    GeneratorWaiter w = fullWindowWithSlot();
    slot.publish(WINDOW / 2);
    assertThat(w.creditExhausted()).isFalse();
    w.awaitCredit(); // returns at once: no reply needed
    assertThat(w.allowedTotal()).isEqualTo(WINDOW / 2 + WINDOW);
  }

  @Test
  void sharedCreditNeverLetsMoreThanTheWindowBeInFlight() {
    GeneratorWaiter w = fullWindowWithSlot();
    slot.publish(3);
    for (int i = 0; i < 3; i++) {
      assertThat(w.creditExhausted()).isFalse();
      w.onIssued();
    }
    assertThat(w.generated() - 3).isEqualTo(WINDOW);
    assertThat(w.creditExhausted()).as("16 in flight with 3 consumed").isTrue();
  }

  @Test
  void aProducerOutOfSharedCreditWaitsForTheReplyAfterItsSpin() {
    GeneratorWaiter w = fullWindowWithSlot();
    AtomicBoolean released = awaitCreditAsync(w);
    await("no credit, no release")
        .during(Duration.ofMillis(200))
        .atMost(Duration.ofSeconds(5))
        .untilFalse(released);
    w.onReply(consumed(8), WINDOW - 1);
    await().atMost(Duration.ofSeconds(5)).untilTrue(released);
  }

  @Test
  void aProducerWhoseSlotWasFreedIgnoresItAndIsReleasedByNotFound() {
    GeneratorWaiter w = fullWindowWithSlot();
    slot.publish(WINDOW);
    slot.free();
    assertThat(w.creditExhausted()).as("a freed slot gives no credit").isTrue();
    AtomicBoolean released = awaitCreditAsync(w);
    w.onReply(ReportGeneratorItemReturnsReply.newBuilder().setNotFound(true).build(), 1);
    await().atMost(Duration.ofSeconds(5)).untilTrue(released);
  }

  @Test
  void aSlotThatCannotBeMappedLeavesTheProducerOnReplies() {
    GeneratorWaiter w = new GeneratorWaiter(WINDOW);
    w.onIssued();
    w.onReply(
        consumed(0).toBuilder()
            .setSharedCredit(
                slot.message().toBuilder().setPath(dir.resolve("none").toString()).build())
            .build(),
        1);
    assertThat(w.sharedCredit()).isFalse();
  }
}
