package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Identifiers: derivation, validation, round trips and value semantics. */
class IdsTest {
  private static final JobId JOB = JobId.of(7);
  private static final TaskId DRIVER = TaskId.forDriver(JOB);

  @Test
  void forChildIsDeterministicForTheSameParentAndCounter() {
    assertThat(TaskId.forChild(DRIVER, 1)).isEqualTo(TaskId.forChild(DRIVER, 1));
    assertThat(TaskId.forChild(DRIVER, 42).toBytes())
        .isEqualTo(TaskId.forChild(DRIVER, 42).toBytes());
    // Derivation depends only on the parent's bytes, not on the parent object.
    TaskId sameParent = TaskId.fromBytes(DRIVER.toBytes());
    assertThat(TaskId.forChild(sameParent, 5)).isEqualTo(TaskId.forChild(DRIVER, 5));
  }

  @Test
  void forChildGivesDistinctIdsForDistinctCounters() {
    Set<TaskId> ids = new HashSet<>();
    for (long c = 1; c <= 10_000; c++) {
      ids.add(TaskId.forChild(DRIVER, c));
    }
    assertThat(ids).hasSize(10_000).doesNotContain(DRIVER);
  }

  @Test
  void forChildGivesDistinctIdsForDistinctParents() {
    TaskId otherJobDriver = TaskId.forDriver(JobId.of(8));
    TaskId child = TaskId.forChild(DRIVER, 1);
    TaskId grandChild = TaskId.forChild(child, 1);
    List<TaskId> firstChildren =
        List.of(
            TaskId.forChild(DRIVER, 1),
            TaskId.forChild(otherJobDriver, 1),
            TaskId.forChild(child, 1),
            TaskId.forChild(grandChild, 1),
            TaskId.forChild(TaskId.forChild(DRIVER, 2), 1));
    assertThat(new HashSet<>(firstChildren)).hasSize(firstChildren.size());

    // Many sibling parents, each with many children: no collisions across the whole tree.
    Set<TaskId> all = new HashSet<>();
    for (long p = 1; p <= 100; p++) {
      TaskId parent = TaskId.forChild(DRIVER, p);
      for (long c = 1; c <= 100; c++) {
        all.add(TaskId.forChild(parent, c));
      }
    }
    assertThat(all).hasSize(100 * 100);
  }

  @Test
  void forChildKeepsTheJobIdOfItsParent() {
    TaskId child = TaskId.forChild(DRIVER, 3);
    TaskId grandChild = TaskId.forChild(child, 9);
    assertThat(child.jobId()).isEqualTo(JOB);
    assertThat(grandChild.jobId()).isEqualTo(JOB);
    assertThat(grandChild.jobId().number()).isEqualTo(7);
    assertThat(TaskId.forChild(TaskId.forDriver(JobId.of(Integer.MAX_VALUE)), 1).jobId().number())
        .isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void driverTaskIdIsTheJobIdFollowedByZeros() {
    assertThat(TaskId.forDriver(JobId.of(1)).hex()).isEqualTo("00000001" + "0".repeat(24));
    assertThat(DRIVER.jobId()).isEqualTo(JOB);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
  void objectIdRejectsIndexZeroAndBelow(int index) {
    TaskId task = TaskId.forChild(DRIVER, 1);
    assertThatThrownBy(() -> ObjectId.of(task, index))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("index")
        .hasMessageContaining(Integer.toString(index));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 255, 256, 65_536, ObjectId.PUT_INDEX_BASE, Integer.MAX_VALUE})
  void objectIdRoundTripsItsTaskIdAndIndex(int index) {
    TaskId task = TaskId.forChild(TaskId.forChild(DRIVER, 11), 4);
    ObjectId id = ObjectId.of(task, index);
    assertThat(id.taskId()).isEqualTo(task);
    assertThat(id.index()).isEqualTo(index);
    assertThat(id.toBytes()).hasSize(ObjectId.LENGTH);
    ObjectId parsed = ObjectId.fromBytes(id.toBytes());
    assertThat(parsed).isEqualTo(id).hasSameHashCodeAs(id);
    assertThat(parsed.taskId()).isEqualTo(task);
    assertThat(parsed.index()).isEqualTo(index);
    assertThat(id.toString()).isEqualTo(task.hex() + "/" + index);
  }

  @Test
  void onlyIndicesAbovePutBaseArePutIds() {
    TaskId task = TaskId.forChild(DRIVER, 1);
    assertThat(ObjectId.of(task, ObjectId.PUT_INDEX_BASE + 1).isPut()).isTrue();
    assertThat(ObjectId.of(task, Integer.MAX_VALUE).isPut()).isTrue();
    assertThat(ObjectId.of(task, 1).isPut()).isFalse();
    assertThat(ObjectId.of(task, 2).isPut()).isFalse();
    assertThat(ObjectId.of(task, ObjectId.PUT_INDEX_BASE).isPut()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 255, 256, 65_535, 1 << 24, Integer.MAX_VALUE, -1})
  void jobIdNumberRoundTrips(int number) {
    JobId job = JobId.of(number);
    assertThat(job.number()).isEqualTo(number);
    assertThat(JobId.fromBytes(job.toBytes())).isEqualTo(job);
    assertThat(JobId.fromBytes(job.toBytes()).number()).isEqualTo(number);
    assertThat(job.toBytes()).hasSize(JobId.LENGTH);
  }

  @Test
  void hexIsLowerCaseBigEndianAndParsesBack() {
    assertThat(JobId.of(0xABCD).hex()).isEqualTo("0000abcd");
    NodeId node = NodeId.random();
    WorkerId worker = WorkerId.random();
    assertThat(node.hex()).hasSize(2 * NodeId.LENGTH).matches("[0-9a-f]+");
    assertThat(NodeId.fromHex(node.hex())).isEqualTo(node);
    assertThat(WorkerId.fromHex(worker.hex())).isEqualTo(worker);
    assertThat(node.toString()).isEqualTo(node.hex());
    assertThat(NodeId.random()).isNotEqualTo(node);
  }

  @Test
  void equalIdsHaveEqualHashCodesAndIdsOfDifferentKindsNeverEqual() {
    TaskId a = TaskId.forChild(DRIVER, 1);
    TaskId b = TaskId.fromBytes(a.toBytes());
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a).isNotEqualTo(TaskId.forChild(DRIVER, 2));
    assertThat(a).isNotEqualTo(null).isNotEqualTo(a.hex());
    // TaskId, NodeId and WorkerId all have 16 bytes; the same bytes are still different ids.
    NodeId sameBytesNode = NodeId.fromBytes(a.toBytes());
    WorkerId sameBytesWorker = WorkerId.fromBytes(a.toBytes());
    assertThat(a.hex()).isEqualTo(sameBytesNode.hex()).isEqualTo(sameBytesWorker.hex());
    assertThat((Object) a).isNotEqualTo(sameBytesNode);
    assertThat((Object) sameBytesNode).isNotEqualTo(sameBytesWorker);
    assertThat(new HashSet<>(List.of(a, b, TaskId.forChild(DRIVER, 2)))).hasSize(2);
  }

  @Test
  void toBytesReturnsACopy() {
    TaskId id = TaskId.forChild(DRIVER, 1);
    String before = id.hex();
    byte[] bytes = id.toBytes();
    bytes[0] ^= 0x7f;
    bytes[15] ^= 0x7f;
    assertThat(id.hex()).isEqualTo(before);

    byte[] source = id.toBytes();
    TaskId parsed = TaskId.fromBytes(source);
    source[3] ^= 1;
    assertThat(parsed).isEqualTo(id);
  }

  @Test
  void wrongLengthsAreRejectedWithTheExpectedLength() {
    assertThatThrownBy(() -> TaskId.fromBytes(new byte[15]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TaskId")
        .hasMessageContaining("16")
        .hasMessageContaining("15");
    assertThatThrownBy(() -> ObjectId.fromBytes(new byte[16]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ObjectId");
    assertThatThrownBy(() -> JobId.fromBytes(new byte[5]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("JobId");
    assertThatThrownBy(() -> NodeId.fromHex("abcd"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NodeId");
  }

  @Test
  void objectIdsOfOneTaskSpreadOverDistinctHashCodes() {
    TaskId task = TaskId.forChild(TaskId.forDriver(JobId.of(3)), 9);
    Set<Integer> hashes = new HashSet<>();
    int n = 100_000;
    for (int i = 2; i < n + 2; i++) {
      hashes.add(ObjectId.of(task, i).hashCode());
    }
    // Hash maps keyed by the items of one stream must not degrade into collision chains.
    assertThat(hashes.size()).isGreaterThan(n * 99 / 100);
  }
}
