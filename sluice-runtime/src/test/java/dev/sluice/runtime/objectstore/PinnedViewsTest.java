package dev.sluice.runtime.objectstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.JobId;
import dev.sluice.ObjectBuffer;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Zero-copy views over pinned objects ({@link PinnedViews}) on a mapped file: a view reads the
 * pinned bytes in place; closing it ends the view and the pin, once; closing the views ends those
 * still open, and any opened afterwards.
 */
class PinnedViewsTest {
  private static final ObjectId ID =
      ObjectId.of(TaskId.forChild(TaskId.forDriver(JobId.of(5)), 1), 1);

  @TempDir Path dir;

  private Arena arena;
  private MemorySegment mapping;
  private PinnedViews views;
  private final AtomicInteger unpins = new AtomicInteger();

  @BeforeEach
  void map() throws Exception {
    Path file = dir.resolve("store");
    Files.write(file, new byte[64 << 10]);
    arena = Arena.ofShared();
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      mapping = ch.map(FileChannel.MapMode.READ_WRITE, 0, 64 << 10, arena);
    }
    for (int i = 0; i < 256; i++) {
      mapping.set(ValueLayout.JAVA_BYTE, 4096 + i, (byte) i);
    }
    views = new PinnedViews(file, mapping, ConcurrentHashMap.newKeySet());
  }

  @AfterEach
  void unmap() {
    views.close();
    arena.close();
  }

  private ObjectBuffer open() {
    return views.open(ID, mapping.asSlice(4096, 256).asReadOnly(), unpins::incrementAndGet);
  }

  @Test
  void aViewReadsThePinnedBytesInPlace() {
    try (ObjectBuffer b = open()) {
      assertThat(b.size()).isEqualTo(256);
      assertThat(b.segment().get(ValueLayout.JAVA_BYTE, 7)).isEqualTo((byte) 7);
      mapping.set(ValueLayout.JAVA_BYTE, 4096 + 7, (byte) 99);
      assertThat(b.segment().get(ValueLayout.JAVA_BYTE, 7))
          .as("the view is the store's memory, not a copy")
          .isEqualTo((byte) 99);
      assertThat(b.segment().isReadOnly()).isTrue();
    }
  }

  @Test
  void closingAViewEndsItAndThePinOnce() {
    ObjectBuffer b = open();
    b.close();
    b.close();

    assertThat(unpins).hasValue(1);
    assertThatThrownBy(() -> b.segment().get(ValueLayout.JAVA_BYTE, 0))
        .isInstanceOf(IllegalStateException.class);
    assertThat(mapping.get(ValueLayout.JAVA_BYTE, 4096 + 1)).isEqualTo((byte) 1);
  }

  @Test
  void closingTheViewsEndsOpenOnesAndLaterOnes() {
    ObjectBuffer open = open();

    assertThat(views.close()).as("no view was in use").isTrue();
    assertThatThrownBy(() -> open.segment().get(ValueLayout.JAVA_BYTE, 0))
        .isInstanceOf(IllegalStateException.class);

    ObjectBuffer late = open();
    assertThatThrownBy(() -> late.segment().get(ValueLayout.JAVA_BYTE, 0))
        .isInstanceOf(IllegalStateException.class);
    assertThat(unpins).as("the late view's pin ended at once").hasValue(1);
    open.close();
    assertThat(unpins).hasValue(2);
  }
}
