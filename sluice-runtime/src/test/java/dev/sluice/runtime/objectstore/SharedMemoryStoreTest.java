package dev.sluice.runtime.objectstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.JobId;
import dev.sluice.ObjectId;
import dev.sluice.RuntimeStartupException;
import dev.sluice.TaskId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's shared-memory store on its own: allocation, pinning, deferred delete, garbage
 * collection requests under pressure, spilling and restoring, and its failure modes.
 */
class SharedMemoryStoreTest {
  private static final long MIB = 1 << 20;
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(3)), 1);

  @TempDir Path dir;

  private final AtomicInteger gcRequests = new AtomicInteger();
  private SharedMemoryStore store;

  private SharedMemoryStore open(long capacity) {
    store =
        SharedMemoryStore.create(
            dir.resolve("shm"),
            "store",
            capacity,
            dir.resolve("spill"),
            gcRequests::incrementAndGet);
    return store;
  }

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
  }

  private static ObjectId id(int k) {
    return ObjectId.of(TASK, k);
  }

  /** Creates, writes {@code fill} into and seals an object, waiting out garbage collection. */
  private long put(ObjectId id, long size, byte fill) {
    SharedMemoryStore.Created c =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> store.create(id, size), r -> !(r instanceof SharedMemoryStore.Retry));
    assertThat(c).isInstanceOf(SharedMemoryStore.Allocated.class);
    long offset = ((SharedMemoryStore.Allocated) c).offset();
    store.segment().asSlice(offset, size).fill(fill);
    store.seal(id);
    return offset;
  }

  private byte firstByte(SharedMemoryStore.Pinned p) {
    return store.segment().get(ValueLayout.JAVA_BYTE, p.offset());
  }

  @Test
  void firstFitOverAFragmentedFreeListLosesNoFreeBytes() {
    open(64 * MIB);
    await().atMost(Duration.ofSeconds(30)).until(() -> store.warmBytes() >= store.capacity());
    java.util.Random random = new java.util.Random(42);
    java.util.List<ObjectId> live = new java.util.ArrayList<>();
    int k = 0;
    // Random creates and deletes keep many free ranges, so first fit takes ranges from inside
    // the free list's tree, not only its ends.
    for (int op = 0; op < 3000; op++) {
      if (!live.isEmpty() && (random.nextInt(3) == 0 || store.usage().used() > 48 * MIB)) {
        store.delete(live.remove(random.nextInt(live.size())));
      } else {
        ObjectId id = id(++k);
        long size = (1 + random.nextInt(32)) * 64 * 1024L;
        if (store.create(id, size) instanceof SharedMemoryStore.Allocated) {
          store.seal(id);
          live.add(id);
        }
      }
    }
    live.forEach(store::delete);
    assertThat(store.usage().used()).isZero();
    assertThat(store.create(id(++k), store.capacity()))
        .as("every byte is free again, in one range")
        .isInstanceOf(SharedMemoryStore.Allocated.class);
  }

  @Test
  void aSealedObjectIsReadableWhilePinnedAndFreedByDelete() {
    open(16 * MIB);
    put(id(1), 3 * MIB, (byte) 5);
    SharedMemoryStore.Pinned p = store.pin(id(1));
    assertThat(p.size()).isEqualTo(3 * MIB);
    assertThat(firstByte(p)).isEqualTo((byte) 5);
    store.release(id(1));
    store.delete(id(1));
    assertThat(store.usage().used()).isZero();
    assertThat(store.usage().objects()).isZero();
    assertThat(store.pin(id(1))).isNull();
  }

  @Test
  void anUnsealedObjectCannotBePinned() {
    open(16 * MIB);
    assertThat(store.create(id(1), MIB)).isInstanceOf(SharedMemoryStore.Allocated.class);
    assertThat(store.pin(id(1))).isNull();
  }

  @Test
  void recreatingASealedObjectReportsThatItExists() {
    open(16 * MIB);
    put(id(1), MIB, (byte) 1);
    assertThat(store.create(id(1), MIB)).isInstanceOf(SharedMemoryStore.Exists.class);
  }

  @Test
  void anObjectLargerThanTheWholeStoreIsRefusedAtOnce() {
    open(8 * MIB);
    SharedMemoryStore.Created c = store.create(id(1), 9 * MIB);
    assertThat(c).isInstanceOf(SharedMemoryStore.Refused.class);
    SharedMemoryStore.Refused r = (SharedMemoryStore.Refused) c;
    assertThat(r.tooLarge()).isTrue();
    assertThat(r.message()).contains(Long.toString(9 * MIB)).contains(Long.toString(8 * MIB));
    assertThat(gcRequests).hasValue(0);
  }

  @Test
  void deleteOfAPinnedObjectWaitsForTheLastRelease() {
    open(16 * MIB);
    put(id(1), 2 * MIB, (byte) 1);
    store.pin(id(1));
    store.delete(id(1));
    assertThat(store.usage().objects()).as("still pinned").isEqualTo(1);
    store.release(id(1));
    assertThat(store.usage().objects()).isZero();
    assertThat(store.usage().used()).isZero();
  }

  @Test
  void freedRangesAreCoalescedAndReused() {
    open(8 * MIB);
    put(id(1), 2 * MIB, (byte) 1);
    put(id(2), 2 * MIB, (byte) 2);
    put(id(3), 2 * MIB, (byte) 3);
    store.delete(id(1));
    store.delete(id(2));
    long offset = put(id(4), 4 * MIB, (byte) 4);
    assertThat(offset).as("the two freed neighbours form one range at the start").isZero();
    assertThat(store.usage().spilledObjects()).isZero();
  }

  @Test
  void whenFullTheStoreFirstAsksForGarbageCollectionThenSpillsTheLeastRecentlyUsed() {
    open(8 * MIB);
    put(id(1), 3 * MIB, (byte) 1);
    put(id(2), 3 * MIB, (byte) 2);
    store.pin(id(2));
    store.release(id(2));
    int before = gcRequests.get();

    assertThat(store.create(id(3), 3 * MIB)).isInstanceOf(SharedMemoryStore.Retry.class);
    assertThat(gcRequests.get()).isGreaterThan(before);

    put(id(3), 3 * MIB, (byte) 3);
    SharedMemoryStore.Usage u = store.usage();
    assertThat(u.spilledObjects()).isEqualTo(1);
    assertThat(u.spilledBytes()).isEqualTo(3 * MIB);
    assertThat(Files.exists(dir.resolve("spill").resolve(id(1).hex())))
        .as("object 1 was used least recently")
        .isTrue();

    store.delete(id(2));
    SharedMemoryStore.Pinned restored = store.pin(id(1));
    assertThat(firstByte(restored)).as("restored content").isEqualTo((byte) 1);
    assertThat(store.usage().spilledObjects()).isZero();
    assertThat(Files.exists(dir.resolve("spill").resolve(id(1).hex()))).isFalse();
  }

  @Test
  void whenEverythingIsPinnedTheStoreIsFullWithSizeCapacityAndUsageInTheMessage() {
    open(8 * MIB);
    put(id(1), 6 * MIB, (byte) 1);
    store.pin(id(1));
    SharedMemoryStore.Created c =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> store.create(id(2), 4 * MIB), r -> !(r instanceof SharedMemoryStore.Retry));
    assertThat(c).isInstanceOf(SharedMemoryStore.Refused.class);
    SharedMemoryStore.Refused r = (SharedMemoryStore.Refused) c;
    assertThat(r.tooLarge()).isFalse();
    assertThat(r.message())
        .contains(Long.toString(4 * MIB))
        .contains("capacity " + 8 * MIB)
        .contains("used " + 6 * MIB);
  }

  @Test
  void aSpilledObjectWhoseFileIsGoneCannotBeRestored() throws IOException {
    open(8 * MIB);
    put(id(1), 5 * MIB, (byte) 1);
    put(id(2), 5 * MIB, (byte) 2);
    Path spilled = dir.resolve("spill").resolve(id(1).hex());
    assertThat(spilled).exists();
    Files.delete(spilled);
    store.delete(id(2));
    assertThatThrownBy(() -> store.pin(id(1)))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining(id(1).toString());
  }

  @Test
  void aStoreDirectoryThatCannotBeCreatedFailsNamingIt() throws IOException {
    Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
    Path bad = file.resolve("shm");
    assertThatThrownBy(() -> SharedMemoryStore.create(bad, "store", 8 * MIB, dir, () -> {}))
        .isInstanceOf(RuntimeStartupException.class)
        .hasMessageContaining(bad.toString());
  }

  @Test
  void thePoolIsPrefaultedAheadOfUseWithoutTakingSpace() {
    open(64 * MIB);
    put(id(1), MIB, (byte) 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> store.warmBytes() == 64 * MIB);
    // The prefaulter reserves chunks only while writing them: once done, nothing is in use but
    // the object, and a create of almost the whole rest succeeds at once.
    assertThat(store.usage().used()).isEqualTo(MIB);
    assertThat(store.create(id(2), 62 * MIB)).isInstanceOf(SharedMemoryStore.Allocated.class);
  }

  @Test
  void closeRemovesTheFileAndSpilledObjects() {
    open(8 * MIB);
    put(id(1), 5 * MIB, (byte) 1);
    put(id(2), 5 * MIB, (byte) 2);
    Path file = store.file();
    assertThat(file).exists();
    store.close();
    assertThat(file).doesNotExist();
    assertThat(dir.resolve("spill").resolve(id(1).hex())).doesNotExist();
  }

  @Test
  void storeFilesOfExitedProcessesAreRemovedWhenAStoreStarts() throws Exception {
    Path shm = Files.createDirectories(dir.resolve("shm"));
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Path stale =
        Files.writeString(shm.resolve(SharedMemoryStore.fileName("ab12", gone.pid())), "x");
    Path live =
        Files.writeString(
            shm.resolve(SharedMemoryStore.fileName("cd34", ProcessHandle.current().pid())), "x");
    Path other = Files.writeString(shm.resolve("not-ours"), "x");

    open(8 * MIB);

    assertThat(stale).doesNotExist();
    assertThat(live).as("its process still runs").exists();
    assertThat(other).exists();
  }
}
