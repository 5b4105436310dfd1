package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.generator.CreditBatching;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Credit batching on the owner's stream, driven by a fake producer that follows the window rule, a
 * fake clock and a fake timer: the producer keeps up to {@code n} items in flight, never more, and
 * a producer out of credit is let go with at least {@code ⌈n/2⌉} items of it while the consumer
 * still has {@code n - ⌈n/2⌉} to take, unless the consumer is slower than the max delay.
 */
class CreditBatchingStreamTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(7)), 1);
  private static final ObjectId GENERATOR = ObjectId.of(TASK, 1);

  private final ReferenceCounter refs =
      new ReferenceCounter(
          Address.getDefaultInstance(),
          new MemoryStore(),
          (owner, id, borrower, delta) -> CompletableFuture.completedFuture(null),
          (id, where) -> {});

  private long now;
  private final List<Runnable> timers = new ArrayList<>();
  private final List<Long> timerDelays = new ArrayList<>();

  private ObjectRefStream stream(int window) {
    return new ObjectRefStream(
        GENERATOR,
        Address.getDefaultInstance(),
        window,
        refs,
        () -> {},
        SluiceMetrics.disabled().streamItems(SluiceMetrics.Side.CONSUMED),
        () -> now,
        (task, delayNanos) -> {
          timers.add(task);
          timerDelays.add(delayNanos);
        });
  }

  private static List<ReturnObject> items(long first, int count) {
    List<ReturnObject> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(
          ReturnObject.newBuilder()
              .setValue(
                  ObjectValue.newBuilder().setData(ByteString.copyFromUtf8("v" + (first + i))))
              .build());
    }
    return out;
  }

  /** A producer that follows the window rule and reports synchronously to the stream. */
  private static final class Producer {
    final CreditBatching rule;
    final ObjectRefStream stream;
    long generated;
    long knownConsumed;
    int reports;
    int answers;
    int maxAnswersOfOneReport;

    /** Credit each reply gave a producer that was out of credit, and unconsumed items then. */
    final List<long[]> releases = new ArrayList<>();

    Producer(int window, ObjectRefStream stream) {
      this.rule = CreditBatching.forWindow(window);
      this.stream = stream;
    }

    boolean outOfCredit() {
      return !rule.mayProduce(generated, knownConsumed);
    }

    /**
     * Produces what the credit allows (at most {@code limit} in total), {@code perReport} a time.
     */
    void produce(long limit, int perReport) {
      while (generated < limit && !outOfCredit()) {
        int k = (int) Math.min(perReport, rule.allowedTotal(knownConsumed) - generated);
        k = (int) Math.min(k, limit - generated);
        long first = generated;
        generated += k;
        assertThat(generated - stream.consumed())
            .as("items in flight beyond the consumer's count")
            .isLessThanOrEqualTo(rule.window());
        reports++;
        int[] answered = new int[1];
        stream.report(
            0,
            first,
            items(first, k),
            (consumed, notFound) -> {
              answered[0]++;
              maxAnswersOfOneReport = Math.max(maxAnswersOfOneReport, answered[0]);
              onReply(consumed);
            });
      }
    }

    void onReply(long consumed) {
      answers++;
      boolean wasOut = outOfCredit();
      long before = knownConsumed;
      knownConsumed = Math.max(knownConsumed, consumed);
      if (wasOut && !outOfCredit()) {
        releases.add(new long[] {knownConsumed - before, stream.unconsumedCount()});
      }
    }
  }

  @Test
  void creditReturnsInBatchesOfHalfTheWindowAndTheProducerKeepsUpToNInFlightNeverMore() {
    int window = 16;
    long total = 5_000;
    ObjectRefStream s = stream(window);
    Producer p = new Producer(window, s);
    Random random = new Random(14);
    long consumed = 0;
    while (consumed < total) {
      if (random.nextInt(3) == 0) {
        p.produce(total, 1 + random.nextInt(5));
      } else {
        ObjectRefImpl<?> ref = s.poll();
        if (ref != null) {
          assertThat(ref.carriedValue().getData().toStringUtf8()).isEqualTo("v" + consumed);
          consumed++;
        }
      }
      assertThat(p.generated - s.consumed()).isLessThanOrEqualTo(window);
    }
    assertThat(p.releases)
        .as("the producer ran out of credit and was let go")
        .hasSizeGreaterThan(50);
    for (long[] release : p.releases) {
      assertThat(release[0]).as("credit given to a producer out of it").isGreaterThanOrEqualTo(8);
      assertThat(release[1])
          .as("items the consumer still had when the producer was let go")
          .isGreaterThanOrEqualTo(window - 8);
    }
    assertThat(p.answers).as("every report answered").isEqualTo(p.reports);
    assertThat(p.maxAnswersOfOneReport).as("answered exactly once").isEqualTo(1);
  }

  @Test
  void theWindowIsRefilledInBatchesNotItemByItem() {
    int window = 16;
    long total = 1_600;
    ObjectRefStream s = stream(window);
    Producer p = new Producer(window, s);
    long consumed = 0;
    while (consumed < total) {
      // The producer gets a turn after every item the consumer takes.
      p.produce(total, window);
      if (s.poll() != null) {
        consumed++;
      }
    }
    assertThat(p.reports)
        .as("reports of %d items in windows of %d", total, window)
        .isLessThanOrEqualTo((int) (total / 8));
  }

  @Test
  void aSlowConsumersCreditIsReturnedAfterTheMaxDelayWithoutABatch() {
    ObjectRefStream s = stream(4);
    Producer p = new Producer(4, s);
    p.produce(100, 1);
    assertThat(p.outOfCredit()).isTrue();
    assertThat(s.poll()).isNotNull();
    assertThat(p.outOfCredit()).as("one item freed of a batch of two: held").isTrue();
    assertThat(timers).hasSize(1);
    assertThat(timerDelays.getFirst()).isEqualTo(CreditBatching.MAX_DELAY_NANOS);

    now += CreditBatching.MAX_DELAY_NANOS / 2;
    timers.removeFirst().run();
    assertThat(p.outOfCredit()).as("the timer fired early: not yet due").isTrue();
    assertThat(timers).as("re-armed for the rest").hasSize(1);
    assertThat(timerDelays.getLast()).isEqualTo(CreditBatching.MAX_DELAY_NANOS / 2);

    now += CreditBatching.MAX_DELAY_NANOS / 2;
    timers.removeFirst().run();
    assertThat(p.outOfCredit()).isFalse();
    assertThat(p.knownConsumed).isEqualTo(1);
  }

  @Test
  void aStreamShorterThanTheWindowIsAnsweredWithNothingConsumed() {
    ObjectRefStream s = stream(16);
    Producer p = new Producer(16, s);
    p.produce(15, 1);
    assertThat(p.answers).isEqualTo(p.reports).isEqualTo(15);
  }

  @Test
  void aTimerAfterTheHeldRepliesWereAnsweredAnswersNothingAgain() {
    ObjectRefStream s = stream(4);
    Producer p = new Producer(4, s);
    p.produce(100, 4);
    s.poll();
    assertThat(timers).hasSize(1);
    s.delete();
    assertThat(p.answers).isEqualTo(1);
    now += CreditBatching.MAX_DELAY_NANOS;
    timers.removeFirst().run();
    assertThat(p.answers).isEqualTo(1);
    assertThat(p.maxAnswersOfOneReport).isEqualTo(1);
  }
}
