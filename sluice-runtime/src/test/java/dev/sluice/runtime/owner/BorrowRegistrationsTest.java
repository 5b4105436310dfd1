package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The borrower side of borrowing, against a fake owner whose replies the test completes: a
 * registration completes once applied (or failed), {@code await} waits for the registrations in
 * flight, a borrow is given back only after its registration applied and with every hold at once,
 * and nothing is sent once closed.
 */
@Timeout(30)
class BorrowRegistrationsTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(7)), 1);
  private static final NodeId NODE = NodeId.random();
  private static final Address SELF = Addresses.of(WorkerId.random(), NODE, "127.0.0.1", 1001);
  private static final Address OWNER = Addresses.of(WorkerId.random(), NODE, "127.0.0.1", 1002);
  private static final Address THIRD = Addresses.of(WorkerId.random(), NODE, "127.0.0.1", 1003);

  /** One update sent to an owner, with the reply the test completes. */
  record Sent(
      Address owner, ObjectId id, Address borrower, int delta, CompletableFuture<Void> reply) {}

  /** A fake owner: every update stays pending until the test answers it. */
  static final class FakeOwner implements ReferenceCounter.BorrowerUpdates {
    final List<Sent> sent = new ArrayList<>();

    @Override
    public synchronized CompletableFuture<Void> send(
        Address owner, ObjectId id, Address borrower, int delta) {
      CompletableFuture<Void> reply = new CompletableFuture<>();
      sent.add(new Sent(owner, id, borrower, delta, reply));
      return reply;
    }

    synchronized List<Integer> deltas() {
      return sent.stream().map(Sent::delta).toList();
    }

    synchronized Sent last() {
      return sent.getLast();
    }
  }

  private final FakeOwner owner = new FakeOwner();
  private final BorrowRegistrations registrations = new BorrowRegistrations(SELF, owner);
  private final ObjectId id = ObjectId.of(TASK, 1);

  /** A borrowed entry as the table makes it: one hold, waiting on {@code registered}. */
  private static RefTable.Entry borrowedEntry(CompletableFuture<Void> registered, int holds) {
    RefTable.Entry e = new RefTable.Entry(OWNER, false);
    e.ownerHolds = holds;
    e.registered = registered;
    return e;
  }

  @Test
  void aRegistrationIsSentToTheOwnerAndCompletesWhenApplied() {
    CompletableFuture<Void> done = new CompletableFuture<>();

    registrations.register(id, OWNER, done);

    Sent s = owner.last();
    assertThat(s.owner()).isEqualTo(OWNER);
    assertThat(s.borrower()).isEqualTo(SELF);
    assertThat(s.delta()).isEqualTo(1);
    assertThat(done).isNotDone();
    s.reply().complete(null);
    assertThat(done).isCompleted();
  }

  @Test
  void aRegistrationTheOwnerCannotApplyStillCompletes() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    registrations.register(id, OWNER, done);

    owner.last().reply().completeExceptionally(new IllegalStateException("owner gone"));

    assertThat(done).isCompleted();
  }

  @Test
  void awaitWaitsForTheRegistrationsInFlight() throws Exception {
    registrations.register(id, OWNER, new CompletableFuture<>());
    Thread waiter = Thread.ofVirtual().start(() -> registrations.await(Duration.ofSeconds(20)));

    await("waiter blocked on the registration")
        .atMost(Duration.ofSeconds(10))
        .until(() -> waiter.getState() == Thread.State.TIMED_WAITING);
    assertThat(waiter.isAlive()).isTrue();

    owner.last().reply().complete(null);
    waiter.join(Duration.ofSeconds(10));
    assertThat(waiter.isAlive()).as("await returned once applied").isFalse();
  }

  @Test
  void awaitReturnsAtOnceWithNothingInFlight() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    registrations.register(id, OWNER, done);
    owner.last().reply().complete(null);

    CompletableFuture.runAsync(() -> registrations.await(Duration.ofMinutes(10)))
        .orTimeout(10, TimeUnit.SECONDS)
        .join();
  }

  @Test
  void aBorrowIsGivenBackOnlyAfterItsRegistrationWasApplied() {
    CompletableFuture<Void> registered = new CompletableFuture<>();

    registrations.giveBack(id, borrowedEntry(registered, 1));
    assertThat(owner.deltas()).as("the -1 must not overtake the +1").isEmpty();

    registered.complete(null);
    assertThat(owner.deltas()).containsExactly(-1);
  }

  @Test
  void everyHoldIsGivenBackInOneUpdate() {
    registrations.giveBack(id, borrowedEntry(CompletableFuture.completedFuture(null), 3));

    assertThat(owner.deltas()).containsExactly(-3);
    assertThat(owner.last().borrower()).isEqualTo(SELF);
    assertThat(owner.last().owner()).isEqualTo(OWNER);
  }

  @Test
  void nothingIsGivenBackForOwnedEntriesOrEntriesHoldingNothing() {
    RefTable.Entry owned = new RefTable.Entry(SELF, true);
    owned.ownerHolds = 1;

    registrations.giveBack(id, owned);
    registrations.giveBack(id, borrowedEntry(CompletableFuture.completedFuture(null), 0));

    assertThat(owner.deltas()).isEmpty();
  }

  @Test
  void registeringAnotherProcessGoesToTheOwnerAndNeverFailsItsCaller() {
    CompletableFuture<Void> done = registrations.registerFor(id, OWNER, THIRD);

    assertThat(owner.last().borrower()).isEqualTo(THIRD);
    owner.last().reply().completeExceptionally(new IllegalStateException("owner gone"));
    assertThat(done).isCompleted();
    assertThat(done.isCompletedExceptionally()).isFalse();
  }

  @Test
  void aClosedRegistrarSendsNothingAndCompletesRegistrationsAtOnce() {
    registrations.close();
    CompletableFuture<Void> done = new CompletableFuture<>();

    registrations.register(id, OWNER, done);
    registrations.giveBack(id, borrowedEntry(CompletableFuture.completedFuture(null), 1));

    assertThat(done).isCompleted();
    assertThat(owner.deltas()).isEmpty();
    assertThat(registrations.isClosed()).isTrue();
  }

  @Test
  void closingBeforeTheRegistrationAppliesCancelsTheGiveBack() {
    CompletableFuture<Void> registered = new CompletableFuture<>();
    registrations.giveBack(id, borrowedEntry(registered, 1));

    registrations.close();
    registered.complete(null);

    assertThat(owner.deltas()).isEmpty();
  }
}
