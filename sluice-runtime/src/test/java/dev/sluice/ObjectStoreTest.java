package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The node's shared-memory object store seen from the API: values over the inline threshold live
 * there, are freed when their last ref goes, spill when the store is full, and can be read without
 * copying; a full store and a lost spilled copy give typed errors.
 */
@Timeout(180)
class ObjectStoreTest {
  private static final long MIB = 1 << 20;
  private static final long CAPACITY = 512 * MIB;
  private static final Duration WAIT = Duration.ofSeconds(60);

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(2).objectStoreBytes(CAPACITY).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  static byte[] pattern(int size, int seed) {
    byte[] b = new byte[size];
    for (int i = 0; i < size; i += 4096) {
      b[i] = (byte) (seed + i / 4096);
    }
    b[size - 1] = (byte) seed;
    return b;
  }

  static boolean hasPattern(byte[] b, int size, int seed) {
    return b.length == size && b[size - 1] == (byte) seed && b[4096] == (byte) (seed + 1);
  }

  static Iterator<byte[]> largeItems(int n, int size) {
    return IntStream.range(0, n).mapToObj(k -> pattern(size, k)).iterator();
  }

  static byte[] largeReturn(int size) {
    return pattern(size, 9);
  }

  static List<Integer> notBytes() {
    return List.of(1, 2, 3);
  }

  /** Drops nothing itself: collects garbage until the store holds nothing. */
  private static void awaitStoreEmpty() {
    await("the object store is empty")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(
            () -> {
              System.gc();
              ObjectStoreStats s = Sluice.objectStoreStats();
              assertThat(s.sharedMemoryObjects()).isZero();
              assertThat(s.sharedMemoryUsedBytes()).isZero();
              assertThat(s.spilledObjects()).isZero();
            });
  }

  @Test
  void aLargePutLivesInSharedMemoryUntilItsLastRefIsDropped() {
    awaitStoreEmpty();
    ObjectRef<byte[]> ref = Sluice.put(pattern(8 << 20, 1));
    ObjectStoreStats held = Sluice.objectStoreStats();
    assertThat(held.sharedMemoryObjects()).isEqualTo(1);
    assertThat(held.sharedMemoryUsedBytes()).isGreaterThanOrEqualTo(8 * MIB);
    assertThat(hasPattern(ref.get(WAIT), 8 << 20, 1)).isTrue();
    ref = null;
    awaitStoreEmpty();
  }

  @Test
  void aLargeReturnValueIsReadFromSharedMemoryAndFreedAfterwards() {
    awaitStoreEmpty();
    ObjectRef<byte[]> ref = Sluice.task(ObjectStoreTest::largeReturn, 12 << 20).remote();
    assertThat(hasPattern(ref.get(WAIT), 12 << 20, 9)).isTrue();
    assertThat(Sluice.objectStoreStats().sharedMemoryObjects()).isEqualTo(1);
    ref = null;
    awaitStoreEmpty();
  }

  @Test
  void fortyItemsOf64MiBStreamThroughA512MiBStoreWithBoundedDriverHeap() {
    int size = 64 << 20;
    long maxHeapAfterGc = 0;
    int k = 0;
    try (ObjectRefGenerator<byte[]> gen =
        Sluice.generator(ObjectStoreTest::largeItems, 40, size)
            .options(TaskOptions.builder().generatorBackpressureNumObjects(2).build())
            .remote()) {
      for (ObjectRef<byte[]> ref : gen) {
        assertThat(hasPattern(ref.get(WAIT), size, k)).as("item %d", k).isTrue();
        if (k % 10 == 9) {
          System.gc();
          Runtime rt = Runtime.getRuntime();
          maxHeapAfterGc = Math.max(maxHeapAfterGc, rt.totalMemory() - rt.freeMemory());
        }
        k++;
      }
    }
    assertThat(k).isEqualTo(40);
    assertThat(maxHeapAfterGc)
        .as("consumed items are not retained by the driver")
        .isLessThan(8L * size);
    awaitStoreEmpty();
  }

  @Test
  void getBufferIsAReadOnlyViewOfSharedMemoryThatFailsAfterClose() {
    ObjectRef<byte[]> ref = Sluice.put(pattern(4 << 20, 3));
    ByteBuffer view;
    try (ObjectBuffer buf = Sluice.getBuffer(ref, WAIT)) {
      assertThat(buf.size()).isEqualTo(4 << 20);
      view = buf.asByteBuffer();
      assertThat(view.isReadOnly()).isTrue();
      assertThat(view.isDirect()).as("a view of shared memory, not a heap copy").isTrue();
      assertThat(view.get(4096)).isEqualTo((byte) 4);
      assertThat(buf.segment().get(ValueLayout.JAVA_BYTE, (4 << 20) - 1)).isEqualTo((byte) 3);
      assertThatThrownBy(() -> buf.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("read-only");
    }
    ByteBuffer closed = view;
    assertThatThrownBy(() -> closed.get(0)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void getBufferKeepsTheObjectAliveAfterItsLastRefIsDropped() {
    awaitStoreEmpty();
    ObjectBuffer buf = Sluice.getBuffer(Sluice.put(pattern(4 << 20, 5)), WAIT);
    try {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      await()
          .during(Duration.ofMillis(500))
          .atMost(WAIT)
          .until(() -> buf.segment().get(ValueLayout.JAVA_BYTE, 4096) == (byte) 6);
    } finally {
      buf.close();
    }
    awaitStoreEmpty();
  }

  @Test
  void getBufferOfASmallObjectViewsItsBytes() {
    try (ObjectBuffer buf = Sluice.getBuffer(Sluice.put(new byte[] {1, 2, 3}), WAIT)) {
      assertThat(buf.size()).isEqualTo(3);
      assertThat(buf.asByteBuffer().get(2)).isEqualTo((byte) 3);
    }
  }

  @Test
  void getBufferOfAnObjectThatIsNotAByteArrayIsRejected() {
    @SuppressWarnings({"unchecked", "rawtypes"})
    ObjectRef<byte[]> ref = (ObjectRef) Sluice.task(ObjectStoreTest::notBytes).remote();
    assertThatThrownBy(() -> Sluice.getBuffer(ref, WAIT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a byte[]");
  }

  @Test
  void anObjectLargerThanTheWholeStoreIsRejectedAtOnce() {
    assertThatThrownBy(() -> Sluice.put(new byte[(int) CAPACITY + (1 << 20)]))
        .isInstanceOf(ObjectTooLargeException.class)
        .hasMessageContaining("larger than the node's whole object store")
        .hasMessageContaining(Long.toString(CAPACITY));
  }

  @Test
  void referencedObjectsSpillWhenTheStoreIsFullAndAreRestoredOnAccess() {
    awaitStoreEmpty();
    List<ObjectRef<byte[]>> refs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      refs.add(Sluice.put(pattern(128 << 20, i)));
    }
    ObjectStoreStats s = Sluice.objectStoreStats();
    assertThat(s.spilledObjects()).isPositive();
    assertThat(s.sharedMemoryUsedBytes()).isLessThanOrEqualTo(CAPACITY);
    for (int i = 0; i < 6; i++) {
      assertThat(hasPattern(refs.get(i).get(WAIT), 128 << 20, i)).as("object %d", i).isTrue();
    }
    refs = null;
    awaitStoreEmpty();
  }

  @Test
  void whenNothingCanBeSpilledAPutFailsWithObjectStoreFullException() {
    awaitStoreEmpty();
    List<ObjectBuffer> pinned = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        pinned.add(Sluice.getBuffer(Sluice.put(pattern(160 << 20, i)), WAIT));
      }
      assertThatThrownBy(() -> Sluice.put(new byte[100 << 20]))
          .isInstanceOf(ObjectStoreFullException.class)
          .hasMessageContaining(Long.toString(100L << 20))
          .hasMessageContaining("capacity " + CAPACITY);
    } finally {
      pinned.forEach(ObjectBuffer::close);
    }
    awaitStoreEmpty();
  }

  @Test
  void aSpilledObjectWhoseDiskCopyIsGoneIsLost() throws IOException {
    awaitStoreEmpty();
    ObjectRef<byte[]> victim = Sluice.put(pattern(200 << 20, 1));
    List<ObjectRef<byte[]>> fillers = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      fillers.add(Sluice.put(pattern(200 << 20, 2 + i)));
    }
    Path root =
        Path.of(
            System.getProperty(
                "sluice.session.root", System.getProperty("java.io.tmpdir") + "/sluice"));
    Path spilled;
    try (Stream<Path> files = Files.walk(root)) {
      spilled =
          files
              .filter(p -> p.getFileName().toString().equals(victim.id().hex()))
              .findFirst()
              .orElseThrow(() -> new AssertionError("the first object was not spilled"));
    }
    Files.delete(spilled);
    fillers = null;
    assertThatThrownBy(() -> victim.get(WAIT))
        .isInstanceOf(ObjectLostException.class)
        .hasMessageContaining(victim.id().toString());
  }
}
