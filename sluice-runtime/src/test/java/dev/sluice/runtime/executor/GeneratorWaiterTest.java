package dev.sluice.runtime.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturnsReply;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The executor's backpressure rules: when the producer blocks and what lets it go. */
class GeneratorWaiterTest {
  /** A reply carrying the consumed count {@code n} (also for the shared-credit tests). */
  static ReportGeneratorItemReturnsReply consumed(long n) {
    return ReportGeneratorItemReturnsReply.newBuilder().setTotalNumObjectConsumed(n).build();
  }

  private static final ReportGeneratorItemReturnsReply NOT_FOUND =
      ReportGeneratorItemReturnsReply.newBuilder().setNotFound(true).build();

  /** Runs {@code awaitCredit} on another thread; the flag turns true once it returns. */
  static AtomicBoolean awaitCreditAsync(GeneratorWaiter w) {
    AtomicBoolean released = new AtomicBoolean();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                w.awaitCredit();
                released.set(true);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    return released;
  }

  @Test
  void withoutBackpressureTheProducerNeverWaits() throws Exception {
    GeneratorWaiter w = new GeneratorWaiter(-1);
    for (int i = 0; i < 1000; i++) {
      w.onIssued();
    }
    assertThat(w.creditExhausted()).isFalse();
    w.awaitCredit();
    assertThat(w.allowedTotal()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void producerBlocksWhenGeneratedMinusConsumedReachesTheThreshold() {
    GeneratorWaiter w = new GeneratorWaiter(2);
    w.onIssued();
    assertThat(w.creditExhausted()).isFalse();
    w.onIssued();
    assertThat(w.creditExhausted()).isTrue();
    AtomicBoolean released = awaitCreditAsync(w);
    w.onReply(consumed(0), 1);
    assertThat(released).as("a reply that consumed nothing does not release").isFalse();
    w.onReply(consumed(1), 1);
    await().atMost(Duration.ofSeconds(5)).untilTrue(released);
    assertThat(w.allowedTotal()).isEqualTo(3);
  }

  @Test
  void consumedCountNeverGoesBackwards() {
    GeneratorWaiter w = new GeneratorWaiter(1);
    w.onIssued();
    w.onIssued();
    w.onReply(consumed(2), 1);
    w.onReply(consumed(1), 1);
    assertThat(w.allowedTotal()).isEqualTo(3);
    assertThat(w.creditExhausted()).isFalse();
  }

  @Test
  void notFoundCountsAsEverythingConsumed() {
    GeneratorWaiter w = new GeneratorWaiter(1);
    w.onIssued();
    AtomicBoolean released = awaitCreditAsync(w);
    w.onReply(NOT_FOUND, 1);
    await().atMost(Duration.ofSeconds(5)).untilTrue(released);
    for (int i = 0; i < 10; i++) {
      w.onIssued();
    }
    assertThat(w.creditExhausted()).isFalse();
  }

  @Test
  void ownerGoneReleasesEveryWait() throws Exception {
    GeneratorWaiter w = new GeneratorWaiter(1);
    w.onIssued();
    AtomicBoolean released = awaitCreditAsync(w);
    AtomicBoolean answered = new AtomicBoolean();
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    w.awaitAllAnswered();
                    answered.set(true);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    w.onOwnerGone();
    await().atMost(Duration.ofSeconds(5)).untilTrue(released);
    t.join(5000);
    assertThat(answered).isTrue();
    assertThat(w.ownerGone()).isTrue();
  }

  @Test
  void finalReplyWaitsUntilEveryIssuedItemIsAnswered() throws Exception {
    GeneratorWaiter w = new GeneratorWaiter(-1);
    w.onIssued();
    w.onIssued();
    w.onIssued();
    AtomicBoolean answered = new AtomicBoolean();
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    w.awaitAllAnswered();
                    answered.set(true);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    w.onReply(consumed(0), 2);
    assertThat(answered).as("one item still unanswered").isFalse();
    w.onReply(consumed(0), 1);
    t.join(5000);
    assertThat(answered).isTrue();
  }

  @Test
  void waitingForCreditIsInterruptible() throws Exception {
    GeneratorWaiter w = new GeneratorWaiter(1);
    w.onIssued();
    AtomicBoolean interrupted = new AtomicBoolean();
    Thread t =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    w.awaitCredit();
                  } catch (InterruptedException e) {
                    interrupted.set(true);
                  }
                });
    await().atMost(Duration.ofSeconds(5)).until(() -> t.getState() == Thread.State.WAITING);
    t.interrupt();
    t.join(5000);
    assertThat(interrupted).as("cancellation reaches a producer blocked on credit").isTrue();
  }

  @Test
  void everyReplyRunsTheCreditAction() {
    GeneratorWaiter w = new GeneratorWaiter(4);
    AtomicInteger runs = new AtomicInteger();
    w.onCredit(runs::incrementAndGet);
    w.onIssued();
    w.onReply(consumed(1), 1);
    w.onOwnerGone();
    assertThat(runs).hasValue(2);
  }
}
