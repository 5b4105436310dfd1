package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import io.micrometer.core.instrument.Counter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The caller-side rules of the streaming generator protocol, one test per rule. */
class ObjectRefStreamTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(7)), 1);
  private static final ObjectId GENERATOR = ObjectId.of(TASK, 1);

  private final MemoryStore store = new MemoryStore();
  private final List<ObjectId> deletedShared = new ArrayList<>();
  private final ReferenceCounter refs =
      new ReferenceCounter(
          Address.getDefaultInstance(),
          store,
          (owner, id, borrower, delta) -> CompletableFuture.completedFuture(null),
          (id, where) -> deletedShared.add(id));
  private final AtomicInteger deletions = new AtomicInteger();

  /** Records every reply sent for a report. */
  private static final class Reply implements ObjectRefStream.ReportReply {
    final List<long[]> sent = new ArrayList<>();

    @Override
    public synchronized void send(long totalConsumed, boolean notFound) {
      sent.add(new long[] {totalConsumed, notFound ? 1 : 0});
    }

    synchronized boolean answered() {
      return !sent.isEmpty();
    }

    synchronized long consumed() {
      return sent.getLast()[0];
    }

    synchronized boolean notFound() {
      return sent.getLast()[1] == 1;
    }
  }

  private ObjectRefStream stream(int threshold) {
    return new ObjectRefStream(
        GENERATOR,
        Address.getDefaultInstance(),
        threshold,
        refs,
        deletions::incrementAndGet,
        SluiceMetrics.disabled().streamItems(SluiceMetrics.Side.CONSUMED));
  }

  private static List<ReturnObject> items(long first, int count) {
    List<ReturnObject> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(
          ReturnObject.newBuilder()
              .setObjectId(ByteString.copyFrom(ObjectId.of(TASK, (int) (2 + first + i)).toBytes()))
              .setValue(
                  ObjectValue.newBuilder().setData(ByteString.copyFromUtf8("v" + (first + i))))
              .build());
    }
    return out;
  }

  private Reply report(ObjectRefStream s, int attempt, long index) {
    Reply r = new Reply();
    s.report(attempt, index, items(index, 1), r);
    return r;
  }

  private String valueOf(ObjectRefImpl<?> ref) {
    if (ref.carriedValue() != null) {
      return ref.carriedValue().getData().toStringUtf8();
    }
    return store.find(ref.id()).join().getData().toStringUtf8();
  }

  @Test
  void consumedItemsCountIsAddedOncePerRunOfItemsTakenAndOnDelete() {
    Counter consumed = SluiceMetrics.create().streamItems(SluiceMetrics.Side.CONSUMED);
    ObjectRefStream s =
        new ObjectRefStream(
            GENERATOR,
            Address.getDefaultInstance(),
            -1,
            refs,
            deletions::incrementAndGet,
            consumed);
    s.report(0, 0, items(0, 200), new Reply());
    // Rule ConsumedItemsCount: taking items from a backlog adds them in runs of 64, not one by one.
    for (int i = 0; i < 63; i++) {
      assertThat(s.poll()).isNotNull();
    }
    assertThat(consumed.count()).isZero();
    assertThat(s.poll()).isNotNull();
    assertThat(consumed.count()).isEqualTo(64.0);
    // ... and the rest of a run as soon as the consumer has taken everything there is.
    for (int i = 0; i < 136; i++) {
      assertThat(s.poll()).isNotNull();
    }
    assertThat(consumed.count()).isEqualTo(200.0);
    s.report(0, 200, items(200, 10), new Reply());
    assertThat(s.poll()).isNotNull();
    assertThat(s.poll()).isNotNull();
    assertThat(consumed.count()).isEqualTo(200.0);
    // ... and what was taken before the stream is deleted.
    s.delete();
    assertThat(consumed.count()).isEqualTo(202.0);
  }

  @Test
  void itemIdsFollowTheYieldIndex() {
    ObjectRefStream s = stream(-1);
    assertThat(s.itemId(0)).isEqualTo(ObjectId.of(TASK, 2));
    assertThat(s.itemId(5)).isEqualTo(ObjectId.of(TASK, 7));
    assertThat(s.generatorRef().id()).isEqualTo(GENERATOR);
  }

  @Test
  void reportsArrivingOutOfOrderAreDeliveredInYieldOrder() {
    ObjectRefStream s = stream(-1);
    report(s, 0, 2);
    report(s, 0, 1);
    assertThat(s.peek()).isEqualTo(ObjectRefStream.State.NOT_READY);
    assertThat(s.poll()).isNull();
    report(s, 0, 0);
    assertThat(valueOf(s.poll())).isEqualTo("v0");
    assertThat(valueOf(s.poll())).isEqualTo("v1");
    assertThat(valueOf(s.poll())).isEqualTo("v2");
    assertThat(s.peek()).isEqualTo(ObjectRefStream.State.NOT_READY);
  }

  @Test
  void aReportOfSeveralConsecutiveItemsInsertsEachOnce() {
    ObjectRefStream s = stream(-1);
    Reply r = new Reply();
    s.report(0, 0, items(0, 3), r);
    assertThat(r.answered()).isTrue();
    s.markEnd(3);
    assertThat(valueOf(s.poll())).isEqualTo("v0");
    assertThat(valueOf(s.poll())).isEqualTo("v1");
    assertThat(valueOf(s.poll())).isEqualTo("v2");
    assertThat(s.peek()).isEqualTo(ObjectRefStream.State.END);
  }

  @Test
  void duplicateAndAlreadyConsumedIndicesAreIgnored() {
    ObjectRefStream s = stream(-1);
    report(s, 0, 0);
    assertThat(valueOf(s.poll())).isEqualTo("v0");
    Reply again = new Reply();
    s.report(
        0,
        0,
        List.of(
            ReturnObject.newBuilder()
                .setValue(ObjectValue.newBuilder().setData(ByteString.copyFromUtf8("other")))
                .build()),
        again);
    assertThat(again.answered()).isTrue();
    assertThat(again.consumed()).isEqualTo(1);
    report(s, 0, 1);
    Reply dup = new Reply();
    s.report(
        0,
        1,
        List.of(
            ReturnObject.newBuilder()
                .setValue(ObjectValue.newBuilder().setData(ByteString.copyFromUtf8("dup")))
                .build()),
        dup);
    assertThat(valueOf(s.poll())).isEqualTo("v1");
    assertThat(s.poll()).isNull();
  }

  @Test
  void endOfStreamFirstWriterWins() {
    ObjectRefStream s = stream(-1);
    report(s, 0, 0);
    s.markEnd(1);
    s.markEnd(5);
    report(s, 0, 1);
    assertThat(s.poll()).isNotNull();
    assertThat(s.peek()).isEqualTo(ObjectRefStream.State.END);
    assertThat(s.poll()).isNull();
  }

  @Test
  void reportsAtOrPastTheEndAreIgnored() {
    ObjectRefStream s = stream(-1);
    s.markEnd(2);
    report(s, 0, 2);
    report(s, 0, 7);
    assertThat(s.unconsumedCount()).isZero();
    assertThat(s.peek()).isEqualTo(ObjectRefStream.State.NOT_READY);
  }

  @Test
  void lateReportBelowTheEndAfterCompletionIsAccepted() {
    ObjectRefStream s = stream(-1);
    report(s, 0, 1);
    s.markEnd(2);
    assertThat(s.peek()).isEqualTo(ObjectRefStream.State.NOT_READY);
    Reply late = report(s, 0, 0);
    assertThat(late.answered()).isTrue();
    assertThat(valueOf(s.poll())).isEqualTo("v0");
    assertThat(valueOf(s.poll())).isEqualTo("v1");
    assertThat(s.peek()).isEqualTo(ObjectRefStream.State.END);
  }

  @Test
  void reportFromAnOlderAttemptIsRejectedAsStale() {
    ObjectRefStream s = stream(-1);
    s.setAttempt(1);
    Reply stale = report(s, 0, 0);
    assertThat(stale.notFound()).isTrue();
    assertThat(s.unconsumedCount()).isZero();
    Reply current = report(s, 1, 0);
    assertThat(current.notFound()).isFalse();
    assertThat(valueOf(s.poll())).isEqualTo("v0");
  }

  @Test
  void backpressureHoldsRepliesAtTheThresholdAndReleasesThemOnConsume() {
    ObjectRefStream s = stream(2);
    Reply r0 = report(s, 0, 0);
    assertThat(r0.answered()).as("1 unconsumed < 2").isTrue();
    Reply r1 = report(s, 0, 1);
    assertThat(r1.answered()).as("2 unconsumed >= 2: held").isFalse();
    s.poll();
    assertThat(r1.answered()).isTrue();
    assertThat(r1.consumed()).isEqualTo(1);
    assertThat(r1.notFound()).isFalse();
  }

  @Test
  void thresholdOneBehavesLikeALazyIterator() {
    ObjectRefStream s = stream(1);
    Reply r0 = report(s, 0, 0);
    assertThat(r0.answered()).isFalse();
    s.poll();
    assertThat(r0.consumed()).isEqualTo(1);
  }

  @Test
  void deleteReleasesUnconsumedItemsAndAnswersHeldAndLaterReportsNotFound() {
    ObjectRefStream s = stream(1);
    Reply held = report(s, 0, 0);
    assertThat(held.answered()).isFalse();
    s.delete();
    s.delete();
    assertThat(held.notFound()).isTrue();
    assertThat(s.unconsumedCount()).as("unconsumed item released").isZero();
    assertThat(store.size()).as("nothing reached the store").isZero();
    assertThat(report(s, 0, 1).notFound()).isTrue();
    assertThat(s.peek()).isEqualTo(ObjectRefStream.State.END);
    assertThat(deletions).hasValue(1);
  }

  @Test
  void aConsumedItemCarriesItsValueUntilItsRefLeavesTheProcess() {
    ObjectRefStream s = stream(-1);
    report(s, 0, 0);
    assertThat(store.size()).as("unconsumed items stay in the stream").isZero();
    ObjectRefImpl<?> ref = s.poll();
    assertThat(ref.carriedValue().getData().toStringUtf8()).isEqualTo("v0");
    assertThat(refs.size()).as("an item ref that never left is not in the table").isZero();
    assertThat(store.size()).isZero();

    refs.noteSerialized(ref);
    assertThat(refs.isReferenced(ref.id())).as("counted once serialized").isTrue();
    assertThat(valueOf(new ObjectRefImpl<>(ref.id(), ref.owner()))).isEqualTo("v0");
  }

  @Test
  void failureEndsTheStreamAtTheCursorEvenWithAGap() {
    ObjectRefStream s = stream(-1);
    report(s, 0, 0);
    report(s, 0, 2);
    assertThat(s.poll()).isNotNull();
    s.fail(Errors.error(ErrorType.WORKER_DIED, "worker died"));
    assertThat(s.peek()).isEqualTo(ObjectRefStream.State.FAILURE);
    ObjectRefImpl<?> generatorRef = s.poll();
    assertThat(generatorRef.id()).isEqualTo(GENERATOR);
    assertThat(s.peek()).isEqualTo(ObjectRefStream.State.END);
    assertThat(s.poll()).isNull();
    assertThat(s.unconsumedCount()).as("item past the end released").isZero();
  }

  @Test
  void cancelWithHeldRepliesLetsTheProducerGo() {
    ObjectRefStream s = stream(1);
    Reply held = report(s, 0, 0);
    s.fail(Errors.error(ErrorType.TASK_CANCELLED, "cancelled"));
    assertThat(held.answered()).isTrue();
    assertThat(s.poll().id()).isEqualTo(GENERATOR);
    assertThat(s.poll()).isNull();
  }

  @Test
  void backpressureAppliesAgainAfterARetryAndReReportedConsumedItemsAreAnsweredAtOnce() {
    ObjectRefStream s = stream(2);
    report(s, 0, 0);
    Reply r1 = report(s, 0, 1);
    s.poll();
    assertThat(r1.consumed()).as("answered by the consume that went under").isEqualTo(1);
    s.poll();
    s.setAttempt(1);
    Reply again0 = report(s, 1, 0);
    Reply again1 = report(s, 1, 1);
    assertThat(again0.answered()).isTrue();
    assertThat(again1.answered()).isTrue();
    assertThat(again1.consumed()).isEqualTo(2);
    report(s, 1, 2);
    Reply r3 = report(s, 1, 3);
    assertThat(r3.answered()).as("2 unconsumed of the new attempt: held").isFalse();
    assertThat(valueOf(s.poll())).isEqualTo("v2");
    assertThat(r3.consumed()).isEqualTo(3);
  }

  @Test
  void everyIndexIsDeliveredExactlyOnceAcrossRetries() {
    ObjectRefStream s = stream(-1);
    report(s, 0, 0);
    report(s, 0, 1);
    report(s, 0, 3);
    assertThat(valueOf(s.poll())).isEqualTo("v0");
    s.setAttempt(1);
    for (int i = 0; i < 5; i++) {
      report(s, 1, i);
    }
    s.markEnd(5);
    List<String> seen = new ArrayList<>();
    ObjectRefImpl<?> ref;
    while ((ref = s.poll()) != null) {
      seen.add(valueOf(ref));
    }
    assertThat(seen).containsExactly("v1", "v2", "v3", "v4");
  }

  @Test
  void asyncConsumersAreServedInOrderAsItemsArrive() throws Exception {
    ObjectRefStream s = stream(-1);
    CompletableFuture<ObjectRefImpl<?>> first = s.pollAsync();
    CompletableFuture<ObjectRefImpl<?>> second = s.pollAsync();
    assertThat(first).isNotDone();
    report(s, 0, 1);
    assertThat(first).isNotDone();
    report(s, 0, 0);
    assertThat(valueOf(first.get(1, TimeUnit.SECONDS))).isEqualTo("v0");
    assertThat(valueOf(second.get(1, TimeUnit.SECONDS))).isEqualTo("v1");
    CompletableFuture<ObjectRefImpl<?>> third = s.pollAsync();
    s.markEnd(2);
    assertThat(third.get(1, TimeUnit.SECONDS)).as("null marks the end").isNull();
  }

  @Test
  void awaitWakesWhenTheNextItemArrivesAndTimesOutOtherwise() throws Exception {
    ObjectRefStream s = stream(-1);
    assertThat(s.await(TimeUnit.MILLISECONDS.toNanos(20)))
        .isEqualTo(ObjectRefStream.State.NOT_READY);
    Thread producer = Thread.ofVirtual().start(() -> report(s, 0, 0));
    assertThat(s.await(TimeUnit.SECONDS.toNanos(5))).isEqualTo(ObjectRefStream.State.ITEM);
    producer.join();
  }

  @Test
  void whenReadyCompletesOnceTheNextItemOrTheEndIsKnownWithoutConsuming() {
    ObjectRefStream s = stream(-1);
    CompletableFuture<Void> ready = s.whenReady();
    report(s, 0, 1);
    assertThat(ready).as("a later index does not make the cursor ready").isNotDone();
    report(s, 0, 0);
    assertThat(ready).isDone();
    assertThat(s.consumed()).isZero();
    s.poll();
    s.poll();
    CompletableFuture<Void> atEnd = s.whenReady();
    assertThat(atEnd).isNotDone();
    s.markEnd(2);
    assertThat(atEnd).isDone();
  }
}
