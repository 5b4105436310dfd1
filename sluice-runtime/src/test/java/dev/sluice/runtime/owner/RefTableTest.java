package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.owner.ReferenceCounter.Nested;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The reference table's own rules, with a recording listener: an entry goes out of scope exactly
 * when its four counts are zero, a change never creates an entry it was not allowed to, a new
 * borrowed entry is registered with its owner once (and not at all when pre-registered), borrowed
 * entries are counted, and the listener runs after the entry left the table.
 */
@Timeout(10)
class RefTableTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(4)), 1);
  private static final NodeId NODE = NodeId.random();
  private static final Address SELF = Addresses.of(WorkerId.random(), NODE, "127.0.0.1", 1001);
  private static final Address OTHER = Addresses.of(WorkerId.random(), NODE, "127.0.0.1", 1002);
  private static final ByteString BORROWER = ByteString.copyFrom(WorkerId.random().toBytes());

  private final RecordingTableListener listener = new RecordingTableListener();
  private final RefTable table = new RefTable(SELF, listener);
  private int nextIndex = 1;

  private ObjectId newId() {
    return ObjectId.of(TASK, nextIndex++);
  }

  @Test
  void outOfScopeOnlyWhenLocalSubmittedContainedAndBorrowerCountsAreAllZero() {
    ObjectId id = newId();
    table.update(id, SELF, true, e -> e.local++);
    table.update(id, SELF, true, e -> e.submitted++);
    table.update(id, SELF, true, e -> e.contained++);
    table.update(id, SELF, true, e -> Borrowers.add(e, BORROWER, 1));

    table.update(id, null, false, e -> e.local--);
    table.update(id, null, false, e -> e.submitted--);
    table.update(id, null, false, e -> e.contained--);
    assertThat(table.contains(id)).as("a borrower still holds it").isTrue();
    assertThat(listener.outOfScope).isEmpty();

    table.update(id, null, false, e -> Borrowers.remove(e, BORROWER, 1));
    assertThat(table.contains(id)).isFalse();
    assertThat(listener.outOfScope).containsExactly(id);
    assertThat(table.size()).isZero();
  }

  @Test
  void aChangeWithoutCreateNeverBringsBackAnAbsentEntry() {
    ObjectId id = newId();
    boolean[] ran = new boolean[1];

    table.update(id, null, false, e -> ran[0] = true);

    assertThat(ran[0]).as("change applied").isFalse();
    assertThat(table.contains(id)).isFalse();
    assertThat(listener.outOfScope).as("nothing went out of scope").isEmpty();
  }

  @Test
  void aNewBorrowedEntryIsRegisteredWithItsOwnerOnce() {
    ObjectId id = newId();
    List<RefTable.Entry> seen = new ArrayList<>();

    table.update(id, OTHER, true, e -> e.local++);
    table.update(id, OTHER, true, e -> seen.add(e));

    assertThat(listener.registrations).hasSize(1);
    RecordingTableListener.Registration r = listener.registrations.get(0);
    assertThat(r.id()).isEqualTo(id);
    assertThat(r.owner()).isEqualTo(OTHER);
    assertThat(seen.get(0).ownerHolds).as("one borrow held at the owner").isEqualTo(1);
    assertThat(seen.get(0).registered).as("the registration the entry waits on").isSameAs(r.done());
  }

  @Test
  void aPreRegisteredBorrowedEntryIsNotRegisteredAgain() {
    ObjectId id = newId();
    List<RefTable.Entry> seen = new ArrayList<>();

    table.update(id, OTHER, true, e -> seen.add(e), true);

    assertThat(listener.registrations).isEmpty();
    assertThat(seen.get(0).ownerHolds).isZero();
    assertThat(seen.get(0).registered).isCompleted();
  }

  @Test
  void ownedEntriesAreNeverRegistered() {
    ObjectId id = newId();

    table.update(id, SELF, true, e -> e.local++);

    assertThat(listener.registrations).isEmpty();
    assertThat(table.numBorrowed()).isZero();
  }

  @Test
  void borrowedEntriesAreCountedUntilTheyGoOutOfScope() {
    ObjectId borrowed = newId();
    ObjectId owned = newId();
    int[] countSeenByListener = {-1};
    listener.onOutOfScope = (id, e) -> countSeenByListener[0] = table.numBorrowed();

    table.update(borrowed, OTHER, true, e -> e.local++);
    table.update(owned, SELF, true, e -> e.local++);
    assertThat(table.numBorrowed()).isEqualTo(1);

    table.update(borrowed, null, false, e -> e.local--);
    assertThat(table.numBorrowed()).isZero();
    assertThat(countSeenByListener[0]).as("already uncounted when out of scope").isZero();
  }

  @Test
  void theListenerRunsAfterTheEntryLeftTheTableAndMayChangeOtherEntries() {
    ObjectId outer = newId();
    ObjectId inner = newId();
    table.update(inner, SELF, true, e -> e.contained++);
    table.update(outer, SELF, true, e -> e.local++);
    boolean[] outerPresent = new boolean[1];
    listener.onOutOfScope =
        (id, e) -> {
          if (id.equals(outer)) {
            outerPresent[0] = table.contains(outer);
            table.update(inner, null, false, x -> x.contained--);
          }
        };

    table.update(outer, null, false, e -> e.local--);

    assertThat(outerPresent[0]).as("outer still in the table in its listener").isFalse();
    assertThat(listener.outOfScope).containsExactly(outer, inner);
  }

  @Test
  void containsAreAttachedOnlyToAnEntryStillInTheTable() {
    ObjectId outer = newId();
    List<Nested> inner = List.of(new Nested(newId(), SELF));
    List<RefTable.Entry> seen = new ArrayList<>();

    assertThat(table.attachContains(outer, inner)).as("outer absent").isFalse();
    assertThat(table.contains(outer)).isFalse();

    table.update(outer, SELF, true, e -> e.local++);
    assertThat(table.attachContains(outer, inner)).isTrue();
    assertThat(table.attachContains(outer, inner)).isTrue();
    table.update(outer, null, false, seen::add);
    assertThat(seen.get(0).contains).containsExactly(inner.get(0), inner.get(0));
  }

  @Test
  void selectFindsTheEntriesMatchingNow() {
    ObjectId held = newId();
    ObjectId notHeld = newId();
    table.update(held, SELF, true, e -> Borrowers.add(e, BORROWER, 1));
    table.update(notHeld, SELF, true, e -> e.local++);

    assertThat(table.select(e -> e.borrowers != null && e.borrowers.containsKey(BORROWER)))
        .containsExactly(held);
  }
}
