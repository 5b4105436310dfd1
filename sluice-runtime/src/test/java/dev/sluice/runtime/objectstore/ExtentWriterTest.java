package dev.sluice.runtime.objectstore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.ObjectId;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writing process's side of writer extents ({@link ExtentWriter}) against a fake node manager
 * that grants extents in a real extent table: claims need no call within an extent, the next extent
 * is asked for before the current one runs out, a refusal pauses asking, a failed call does not,
 * and closing releases the extents.
 */
class ExtentWriterTest {
  private static final long KIB = 1 << 10;

  @TempDir Path dir;

  private ExtentTable nodeTable;
  private FakeNode node;
  private ExtentWriter writer;

  @BeforeEach
  void open() throws Exception {
    nodeTable = ExtentTable.create(dir.resolve("store"));
    node = new FakeNode(nodeTable);
    writer = new ExtentWriter(writerTable(), node, 10);
  }

  /** The writing process's own mapping of the table. */
  private ExtentTable writerTable() throws IOException {
    return ExtentTable.open(dir.resolve("store"));
  }

  @AfterEach
  void close() {
    if (writer != null) {
      writer.close();
    }
    nodeTable.close();
  }

  @Test
  void claimsWithinOneExtentNeedNoCall() {
    node.extentSize = 16 * KIB;
    ExtentClaim first = writer.claim(100);
    ExtentClaim second = writer.claim(100);
    ExtentClaim third = writer.claim(1000);

    assertThat(node.asked).containsExactly(100L);
    assertThat(first.offset()).isEqualTo(node.grants.get(0).offset());
    // Claims are 64-byte aligned and follow each other in the extent.
    assertThat(second.offset()).isEqualTo(first.offset() + 128);
    assertThat(third.offset()).isEqualTo(second.offset() + 128);
    assertThat(second.slot()).isEqualTo(first.slot());
    assertThat(second.generation()).isEqualTo(first.generation());
  }

  @Test
  void theNextExtentIsAskedForBeforeTheCurrentRunsOut() {
    node.extentSize = 4 * KIB;
    ExtentClaim a = writer.claim(KIB);
    writer.claim(KIB);
    assertThat(node.asked).hasSize(1);
    // This claim (1088 bytes aligned) leaves less than another such object's room: the next
    // extent is asked for now, for objects of its size.
    writer.claim(KIB + 1);
    assertThat(node.asked).containsExactly(KIB, KIB + 64);

    ExtentClaim moved = writer.claim(KIB);
    assertThat(node.asked).as("the extent asked ahead is used, no new call").hasSize(2);
    assertThat(moved.generation()).isNotEqualTo(a.generation());
    assertThat(moved.offset()).isEqualTo(node.grants.get(1).offset());
  }

  @Test
  void aRevokedExtentIsLeftForANewOne() {
    node.extentSize = 16 * KIB;
    ExtentClaim a = writer.claim(100);
    nodeTable.revoke(a.slot());

    ExtentClaim b = writer.claim(100);

    assertThat(node.asked).hasSize(2);
    assertThat(b.generation()).isNotEqualTo(a.generation());
  }

  @Test
  void aRefusalPausesAsking() throws Exception {
    writer.close();
    writer = new ExtentWriter(writerTable(), node, 10, TimeUnit.HOURS.toNanos(1));
    node.refuse = true;
    assertThat(writer.claim(100)).isNull();
    node.refuse = false;
    node.extentSize = 16 * KIB;

    assertThat(writer.claim(100)).as("objects are created one by one meanwhile").isNull();
    assertThat(node.asked).as("no second request within the pause").hasSize(1);
  }

  @Test
  void askingResumesAfterThePause() throws Exception {
    writer.close();
    writer = new ExtentWriter(writerTable(), node, 10, TimeUnit.MILLISECONDS.toNanos(1));
    node.refuse = true;
    assertThat(writer.claim(100)).isNull();
    node.refuse = false;
    node.extentSize = 16 * KIB;

    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> writer.claim(100) != null);
    assertThat(node.asked).hasSizeGreaterThanOrEqualTo(2);
  }

  @Test
  void aFailedCallDoesNotPauseAsking() {
    node.fail = true;
    assertThat(writer.claim(100)).isNull();
    node.fail = false;
    node.extentSize = 16 * KIB;

    assertThat(writer.claim(100)).isNotNull();
    assertThat(node.asked).hasSize(2);
  }

  @Test
  void closingReleasesTheExtentsOnce() {
    node.extentSize = 16 * KIB;
    writer.claim(100);

    writer.close();
    writer = null;

    assertThat(node.releases).hasValue(1);
  }

  /**
   * A node manager that grants extents of {@code extentSize} bytes one after the other in a real
   * table (slot 0, then 1, ...), or refuses, or fails the call.
   */
  private static final class FakeNode implements StoreCalls {
    private final ExtentTable table;
    final List<Long> asked = new ArrayList<>();
    final List<ExtentGrant> grants = new ArrayList<>();
    final AtomicInteger releases = new AtomicInteger();
    volatile long extentSize;
    volatile boolean refuse;
    volatile boolean fail;
    private long next = 1 << 20;

    FakeNode(ExtentTable table) {
      this.table = table;
    }

    @Override
    public synchronized CompletableFuture<ExtentGrant> reserveExtent(long minSize) {
      asked.add(minSize);
      if (fail) {
        return CompletableFuture.failedFuture(new IllegalStateException("unreachable"));
      }
      if (refuse) {
        return CompletableFuture.completedFuture(null);
      }
      int slot = grants.size();
      ExtentGrant g = new ExtentGrant(slot, slot + 1, next, extentSize);
      next += extentSize;
      table.open(g.slot(), g.generation(), g.offset(), g.offset() + g.size());
      grants.add(g);
      return CompletableFuture.completedFuture(g);
    }

    @Override
    public void releaseExtents() {
      releases.incrementAndGet();
    }

    @Override
    public SharedMemoryStore.Created create(ObjectId id, long size) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void seal(ObjectId id) {
      throw new UnsupportedOperationException();
    }

    @Override
    public PinAnswer pin(ObjectId id) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void release(ObjectId id) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void delete(ObjectId id) {
      throw new UnsupportedOperationException();
    }

    @Override
    public SharedMemoryStore.Usage usage() {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<Void> sealInExtent(ObjectId id, ExtentClaim claim, long size) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void abortInExtent(ObjectId id, ExtentClaim claim, long size) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void fetch(ObjectId id, StoreLocation where) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void prefetch(ObjectId id, StoreLocation where) {
      throw new UnsupportedOperationException();
    }
  }
}
