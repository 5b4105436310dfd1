package dev.sluice.runtime.objectstore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.JobId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.objectstore.SharedMemoryStore.ExtentSeal;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writer extents on the store and its extent table, the store acting as the node manager and a
 * second mapping of the table as the writing process: claims need no create call, objects appear
 * when sealed, the unclaimed rest goes back on revocation, and a writer that goes away leaves
 * nothing behind.
 */
class WriterExtentsTest {
  private static final long MIB = 1 << 20;
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(4)), 1);
  private static final String WRITER = "aa01";

  @TempDir Path dir;

  private SharedMemoryStore store;
  private ExtentTable writer;

  private void open(long capacity) throws Exception {
    store =
        SharedMemoryStore.create(
            dir.resolve("shm"), "store", capacity, dir.resolve("spill"), () -> {});
    writer = ExtentTable.open(store.file());
    // Let the prefaulter finish, so that it holds no chunk off the free list.
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .until(
            () ->
                store.warmBytes() >= Math.min(store.capacity(), SharedMemoryStore.PREFAULT_AHEAD));
  }

  @AfterEach
  void close() {
    if (writer != null) {
      writer.close();
    }
    if (store != null) {
      store.close();
    }
  }

  private static ObjectId id(int k) {
    return ObjectId.of(TASK, k);
  }

  /** Seals object {@code k}, 4 MiB written by {@link #WRITER} at {@code offset} of {@code g}. */
  private ExtentSeal seal(int k, ExtentGrant g, long offset) {
    return store.sealInExtent(id(k), WRITER, g.slot(), g.generation(), offset, 4 * MIB);
  }

  @Test
  void objectsClaimedInAnExtentNeedNoCreateAndAreReadableOnceSealed() throws Exception {
    open(256 * MIB);
    ExtentGrant g = store.grantExtent(WRITER, 4 * MIB);
    assertThat(g.size())
        .as("room for several objects of the size asked for")
        .isGreaterThanOrEqualTo(4 * 4 * MIB);
    long first = writer.claim(g.slot(), g.generation(), 4 * MIB);
    long second = writer.claim(g.slot(), g.generation(), 4 * MIB);
    assertThat(first).isEqualTo(g.offset());
    assertThat(second).isEqualTo(g.offset() + 4 * MIB);
    store.segment().asSlice(first, 4 * MIB).fill((byte) 7);

    assertThat(store.usage().used())
        .as("claimed bytes count as used while being written")
        .isEqualTo(8 * MIB);
    assertThat(store.pin(id(1))).as("unknown until sealed").isNull();
    assertThat(seal(1, g, first)).isEqualTo(ExtentSeal.SEALED);
    SharedMemoryStore.Pinned p = store.pin(id(1));
    assertThat(p.offset()).isEqualTo(first);
    assertThat(store.segment().get(ValueLayout.JAVA_BYTE, p.offset() + MIB)).isEqualTo((byte) 7);
    store.release(id(1));

    seal(2, g, second);
    store.delete(id(1));
    store.delete(id(2));
    assertThat(store.usage().used()).isZero();
    assertThat(store.usage().objects()).isZero();
  }

  @Test
  void aWriterHoldsTwoExtentsAndANewOneEndsTheOldestWhoseLateSealsStillCount() throws Exception {
    open(256 * MIB);
    ExtentGrant g1 = store.grantExtent(WRITER, 4 * MIB);
    long inFirst = writer.claim(g1.slot(), g1.generation(), 4 * MIB);
    ExtentGrant g2 = store.grantExtent(WRITER, 4 * MIB);
    assertThat(g2.slot()).as("the next extent, asked for ahead").isNotEqualTo(g1.slot());
    assertThat(writer.claim(g1.slot(), g1.generation(), 4 * MIB))
        .as("the first is still open")
        .isNotNegative();
    ExtentGrant g3 = store.grantExtent(WRITER, 4 * MIB);
    assertThat(g3.slot()).as("two slots per writer").isEqualTo(g1.slot());
    assertThat(g3.generation()).isGreaterThan(g2.generation());
    assertThat(writer.claim(g2.slot(), g2.generation(), 4 * MIB))
        .as("the second is still open")
        .isNotNegative();

    // The seal of an object written in the first extent arrives after the third was granted.
    assertThat(seal(1, g1, inFirst)).isEqualTo(ExtentSeal.SEALED);
    assertThat(store.pin(id(1))).isNotNull();
    store.release(id(1));
    store.delete(id(1));
    store.releaseClient(WRITER);
    assertThat(store.usage().used()).isZero();
  }

  @Test
  void revokingExtentsFreesTheirUnclaimedRestAndFailsLaterClaims() throws Exception {
    open(128 * MIB);
    ExtentGrant g = store.grantExtent(WRITER, 4 * MIB);
    long claimed = writer.claim(g.slot(), g.generation(), 4 * MIB);
    assertThat(store.reservedForWriters()).isEqualTo(g.size() - 4 * MIB);

    // Pressure: an object that fits only if the extent's unclaimed rest comes back.
    long big = 128 * MIB - 4 * MIB;
    SharedMemoryStore.Created c = store.create(id(9), big);
    assertThat(c)
        .as("the extent is taken back before anything is refused or spilled")
        .isInstanceOf(SharedMemoryStore.Allocated.class);
    assertThat(store.usage().spilledObjects()).isZero();
    assertThat(writer.claim(g.slot(), g.generation(), 64))
        .as("a revoked extent hands out nothing")
        .isEqualTo(-1);
    assertThat(store.reservedForWriters()).isZero();

    // What was claimed before the revocation is still the writer's to seal.
    assertThat(seal(1, g, claimed)).isEqualTo(ExtentSeal.SEALED);
    store.seal(id(9));
    store.delete(id(1));
    store.delete(id(9));
    assertThat(store.usage().used()).isZero();
  }

  @Test
  void aWriterThatMissedTheReopeningOfItsSlotCannotClaimFromTheNewExtent() throws Exception {
    open(128 * MIB);
    ExtentGrant mine = store.grantExtent(WRITER, 4 * MIB);
    // The writer is declared gone while it still runs (a notice to it failed, say), and its
    // slot goes to another process.
    store.releaseClient(WRITER);
    ExtentGrant theirs = store.grantExtent("bb02", 4 * MIB);
    assertThat(theirs.slot()).isEqualTo(mine.slot());

    assertThat(writer.claim(mine.slot(), mine.generation(), 64))
        .as("a stale generation claims nothing")
        .isEqualTo(-1);
    assertThat(writer.claim(theirs.slot(), theirs.generation(), 64)).isEqualTo(theirs.offset());
  }

  @Test
  void aClaimAndARevocationNeverBothWinTheSameBytes() throws Exception {
    open(512 * MIB);
    long claim = 16 * 1024;
    for (int round = 0; round < 100; round++) {
      ExtentGrant g = store.grantExtent(WRITER, claim);
      CountDownLatch go = new CountDownLatch(1);
      List<Long> claims = new ArrayList<>();
      Thread claimer =
          Thread.ofPlatform()
              .start(
                  () -> {
                    await(go);
                    for (long off; (off = writer.claim(g.slot(), g.generation(), claim)) >= 0; ) {
                      claims.add(off);
                    }
                  });
      AtomicLong claimedEnd = new AtomicLong();
      ExtentTableView nodeManager = new ExtentTableView(store);
      Thread revoker =
          Thread.ofPlatform()
              .start(
                  () -> {
                    await(go);
                    claimedEnd.set(nodeManager.revoke(g.slot()));
                  });
      go.countDown();
      claimer.join();
      revoker.join();
      long end = claimedEnd.get();
      assertThat(claims).allSatisfy(off -> assertThat(off + claim).isLessThanOrEqualTo(end));
      assertThat(end - g.offset()).isEqualTo(claim * claims.size());
      store.releaseClient(WRITER);
      assertThat(store.usage().used()).isZero();
    }
  }

  @Test
  void whatADepartedWriterClaimedButNeverSealedIsFreedAndItsLateSealsAreRefused() throws Exception {
    open(256 * MIB);
    ExtentGrant g = store.grantExtent(WRITER, 4 * MIB);
    long sealed = writer.claim(g.slot(), g.generation(), 4 * MIB);
    writer.claim(g.slot(), g.generation(), 4 * MIB); // abandoned: never sealed
    long lateOne = writer.claim(g.slot(), g.generation(), 4 * MIB);
    seal(1, g, sealed);
    assertThat(store.usage().used()).isEqualTo(12 * MIB);

    store.releaseClient(WRITER);
    assertThat(store.usage().used()).as("only the sealed object is left").isEqualTo(4 * MIB);
    assertThat(seal(3, g, lateOne)).isEqualTo(ExtentSeal.REJECTED);
    assertThat(store.pin(id(3))).isNull();

    store.delete(id(1));
    assertThat(store.usage().used()).isZero();
    // Every byte is free again: the whole store fits one object.
    assertThat(store.create(id(4), 256 * MIB)).isInstanceOf(SharedMemoryStore.Allocated.class);
  }

  @Test
  void anAbortedClaimIsFreedAndADuplicateSealKeepsTheFirstCopy() throws Exception {
    open(256 * MIB);
    ExtentGrant g = store.grantExtent(WRITER, 4 * MIB);
    long aborted = writer.claim(g.slot(), g.generation(), 4 * MIB);
    store.abortInExtent(WRITER, g.slot(), g.generation(), aborted, 4 * MIB);
    assertThat(store.usage().used()).isZero();

    long first = writer.claim(g.slot(), g.generation(), 4 * MIB);
    long again = writer.claim(g.slot(), g.generation(), 4 * MIB);
    seal(1, g, first);
    assertThat(seal(1, g, again))
        .as("a retry wrote the same object again")
        .isEqualTo(ExtentSeal.DUPLICATE);
    assertThat(store.pin(id(1)).offset()).isEqualTo(first);
    store.release(id(1));
    assertThat(store.usage().used()).isEqualTo(4 * MIB);
    store.delete(id(1));
    assertThat(store.usage().used()).isZero();
  }

  @Test
  void sealsOutsideTheWritersClaimsAreRefused() throws Exception {
    open(256 * MIB);
    ExtentGrant g = store.grantExtent(WRITER, 4 * MIB);
    long claimed = writer.claim(g.slot(), g.generation(), 4 * MIB);
    assertThat(store.sealInExtent(id(1), "bb02", g.slot(), g.generation(), claimed, 4 * MIB))
        .as("another process's extent")
        .isEqualTo(ExtentSeal.REJECTED);
    assertThat(seal(1, g, claimed + 4 * MIB)).as("not claimed yet").isEqualTo(ExtentSeal.REJECTED);
    assertThat(store.sealInExtent(id(1), WRITER, g.slot(), g.generation() + 1, claimed, 4 * MIB))
        .as("no such generation")
        .isEqualTo(ExtentSeal.REJECTED);
  }

  @Test
  void objectsOverAnEighthOfTheStoreGetNoExtent() throws Exception {
    open(64 * MIB);
    assertThat(store.grantExtent(WRITER, 8 * MIB + 64)).isNull();
    assertThat(store.grantExtent(WRITER, 8 * MIB)).isNotNull();
  }

  @Test
  void closingTheStoreRemovesItsExtentTable() throws Exception {
    open(16 * MIB);
    Path table = ExtentTable.fileOf(store.file());
    assertThat(table).exists();
    store.close();
    store = null;
    assertThat(Files.exists(table)).isFalse();
  }

  @Test
  void staleExtentTablesOfExitedProcessesAreRemoved() throws Exception {
    Path shm = Files.createDirectories(dir.resolve("stale"));
    // A pid far above any pid_max: that process cannot be running.
    Path store = Files.createFile(shm.resolve(SharedMemoryStore.fileName("ab12", 4_999_999_999L)));
    Path table = Files.createFile(ExtentTable.fileOf(store));
    assertThat(SharedMemoryStore.removeStaleFiles(shm)).isEqualTo(2);
    assertThat(Files.exists(table)).isFalse();
  }

  /** The node manager's mapping of the table, as the store would revoke through it. */
  private static final class ExtentTableView {
    private final ExtentTable table;

    ExtentTableView(SharedMemoryStore store) throws java.io.IOException {
      this.table = ExtentTable.open(store.file());
    }

    long revoke(int slot) {
      try {
        return table.revoke(slot);
      } finally {
        table.close();
      }
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
