package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The owner side of borrowing, on a table with a recording listener: borrows are counted per worker
 * and keep an owned object, a borrow for a freed object does not bring it back, an exited worker's
 * borrows are forgotten, and so are a dead node's workers' borrows, including those that arrive
 * later.
 */
@Timeout(10)
class BorrowersTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(6)), 1);
  private static final NodeId NODE = NodeId.random();
  private static final NodeId DOOMED = NodeId.random();
  private static final Address SELF = Addresses.of(WorkerId.random(), NODE, "127.0.0.1", 1001);
  private static final Address A = Addresses.of(WorkerId.random(), NODE, "127.0.0.1", 1002);
  private static final Address B = Addresses.of(WorkerId.random(), NODE, "127.0.0.1", 1003);
  private static final Address ON_DOOMED =
      Addresses.of(WorkerId.random(), DOOMED, "127.0.0.1", 1004);

  private final RecordingTableListener listener = new RecordingTableListener();
  private final RefTable table = new RefTable(SELF, listener);
  private final Borrowers borrowers = new Borrowers(table);
  private int nextIndex = 1;

  /** An owned object with no count but the borrows the test adds: a submitted count taken back. */
  private ObjectId ownedObject() {
    ObjectId id = ObjectId.of(TASK, nextIndex++);
    table.update(id, SELF, true, e -> e.submitted++);
    return id;
  }

  private void dropOwnCount(ObjectId id) {
    table.update(id, null, false, e -> e.submitted--);
  }

  private void borrow(ObjectId id, Address by, int delta) {
    borrowers.update(id, by.getWorkerId(), by.getNodeId(), delta);
  }

  @Test
  void borrowsAreCountedPerWorkerAndKeepTheObjectUntilAllAreGivenBack() {
    ObjectId id = ownedObject();
    borrow(id, A, 1);
    borrow(id, A, 1);
    borrow(id, B, 1);
    dropOwnCount(id);

    borrow(id, A, -1);
    borrow(id, B, -1);
    assertThat(table.contains(id)).as("A still holds one borrow").isTrue();

    borrow(id, A, -1);
    assertThat(table.contains(id)).isFalse();
    assertThat(listener.outOfScope).containsExactly(id);
  }

  @Test
  void givingBackMoreBorrowsThanHeldRemovesTheWorker() {
    ObjectId id = ownedObject();
    borrow(id, A, 1);
    dropOwnCount(id);

    borrow(id, A, -5);

    assertThat(table.contains(id)).isFalse();
  }

  @Test
  void aBorrowForAnObjectAlreadyFreedDoesNotBringItBack() {
    ObjectId id = ObjectId.of(TASK, nextIndex++);

    borrow(id, A, 1);

    assertThat(table.contains(id)).isFalse();
    assertThat(table.size()).isZero();
  }

  @Test
  void anExitedWorkersBorrowsAreForgottenAndOtherWorkersKeepTheirs() {
    ObjectId onlyA = ownedObject();
    ObjectId both = ownedObject();
    borrow(onlyA, A, 2);
    borrow(both, A, 1);
    borrow(both, B, 1);
    dropOwnCount(onlyA);
    dropOwnCount(both);

    borrowers.removeWorker(A.getWorkerId());

    assertThat(table.contains(onlyA)).isFalse();
    assertThat(table.contains(both)).as("B still borrows it").isTrue();
    borrow(both, B, -1);
    assertThat(table.contains(both)).isFalse();
  }

  @Test
  void theBorrowsOfWorkersOnADeadNodeAreForgotten() {
    ObjectId id = ownedObject();
    borrow(id, ON_DOOMED, 2);
    borrow(id, B, 1);
    dropOwnCount(id);

    borrowers.removeOnNode(ByteString.copyFrom(DOOMED.toBytes()));
    assertThat(table.contains(id)).as("B on a live node still borrows it").isTrue();

    borrow(id, B, -1);
    assertThat(table.contains(id)).isFalse();
  }

  @Test
  void aBorrowArrivingFromADeadNodeAfterTheNewsIsIgnored() {
    ObjectId id = ownedObject();
    borrowers.removeOnNode(ByteString.copyFrom(DOOMED.toBytes()));

    borrow(id, ON_DOOMED, 1);
    dropOwnCount(id);

    assertThat(table.contains(id)).as("the late borrow counted for nothing").isFalse();
  }

  @Test
  void aBorrowWithAnUnknownNodeIsCountedButNotTiedToANode() {
    ObjectId id = ownedObject();
    borrowers.update(id, A.getWorkerId(), ByteString.EMPTY, 1);
    dropOwnCount(id);

    borrowers.removeOnNode(A.getNodeId());
    assertThat(table.contains(id)).as("no node known for A").isTrue();

    borrowers.removeWorker(A.getWorkerId());
    assertThat(table.contains(id)).isFalse();
  }
}
