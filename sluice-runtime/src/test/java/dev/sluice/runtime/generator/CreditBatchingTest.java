package dev.sluice.runtime.generator;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Credit batching, the rule itself: the window, the batch and when held replies are answered. */
class CreditBatchingTest {
  @Test
  void theProducerKeepsUpToNItemsInFlightNeverMore() {
    CreditBatching c = CreditBatching.forWindow(16);
    assertThat(c.mayProduce(15, 0)).isTrue();
    assertThat(c.mayProduce(16, 0)).isFalse();
    assertThat(c.mayProduce(24, 8)).isFalse();
    assertThat(c.mayProduce(23, 8)).isTrue();
    assertThat(c.allowedTotal(8)).isEqualTo(24);
  }

  @Test
  void theBatchIsHalfTheWindowRoundedUp() {
    assertThat(CreditBatching.forWindow(1).batch()).isEqualTo(1);
    assertThat(CreditBatching.forWindow(2).batch()).isEqualTo(1);
    assertThat(CreditBatching.forWindow(3).batch()).isEqualTo(2);
    assertThat(CreditBatching.forWindow(16).batch()).isEqualTo(8);
    assertThat(CreditBatching.forWindow(17).batch()).isEqualTo(9);
  }

  @Test
  void aReplyIsHeldOnlyWhenItsReportFillsTheWindow() {
    CreditBatching c = CreditBatching.forWindow(16);
    assertThat(c.holdsReply(15)).isFalse();
    assertThat(c.holdsReply(16)).isTrue();
    assertThat(c.holdsReply(17)).as("a retry may report past the window").isTrue();
  }

  @Test
  void heldRepliesAreAnsweredOnceHalfTheWindowIsFreeOrTheCreditWaitedTheMaxDelay() {
    CreditBatching c = CreditBatching.forWindow(16);
    assertThat(c.releasesHeld(15, 0)).as("one item freed: not a batch yet").isFalse();
    assertThat(c.releasesHeld(9, 0)).as("seven items freed").isFalse();
    assertThat(c.releasesHeld(8, 0)).as("a batch of eight freed").isTrue();
    assertThat(c.releasesHeld(15, CreditBatching.MAX_DELAY_NANOS - 1)).isFalse();
    assertThat(c.releasesHeld(15, CreditBatching.MAX_DELAY_NANOS))
        .as("a slow consumer's credit waits at most the max delay")
        .isTrue();
    assertThat(c.releasesHeld(16, CreditBatching.MAX_DELAY_NANOS))
        .as("nothing freed, nothing owed")
        .isFalse();
  }

  @Test
  void windowsOfOneAndTwoAnswerOnEveryConsumeUnderTheWindow() {
    CreditBatching one = CreditBatching.forWindow(1);
    assertThat(one.holdsReply(1)).isTrue();
    assertThat(one.releasesHeld(0, 0)).isTrue();
    CreditBatching two = CreditBatching.forWindow(2);
    assertThat(two.holdsReply(2)).isTrue();
    assertThat(two.releasesHeld(1, 0)).isTrue();
  }

  @Test
  void withoutBackpressureNothingIsHeldAndTheProducerNeverWaits() {
    CreditBatching off = CreditBatching.forWindow(-1);
    assertThat(off.on()).isFalse();
    assertThat(off.holdsReply(1_000_000)).isFalse();
    assertThat(off.mayProduce(1_000_000, 0)).isTrue();
    assertThat(off.allowedTotal(0)).isEqualTo(Long.MAX_VALUE);
  }
}
