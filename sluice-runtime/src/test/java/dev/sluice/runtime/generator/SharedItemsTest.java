package dev.sluice.runtime.generator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.rpc.proto.SharedCreditSlot;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules of DESIGN "Shared items" on one ring of a real mapped file: only while someone looks,
 * claim then write then commit (drains stop at an uncommitted or torn entry and skip another tag),
 * and a full ring refusing.
 */
class SharedItemsTest {
  private static final int RING = 3;

  @TempDir Path dir;
  private Arena arena;
  private MemorySegment file;
  private Path path;

  @BeforeEach
  void map() throws IOException {
    path = dir.resolve("owner.items");
    arena = Arena.ofShared();
    try (FileChannel ch =
        FileChannel.open(
            path,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      file = ch.map(FileChannel.MapMode.READ_WRITE, 0, SharedItems.FILE_BYTES, arena);
    }
  }

  @AfterEach
  void unmap() {
    arena.close();
  }

  private SharedItems.Reader reader;

  /** Ring {@link #RING} taken by the stream tagged 5 and polled; its producer's writer. */
  private SharedItems.Writer polled() {
    reader = new SharedItems.Reader(file, RING, 5);
    reader.polling(true);
    return writer(5);
  }

  private SharedItems.Writer writer(long tag) {
    return SharedItems.open(
        SharedCreditSlot.newBuilder()
            .setPath(dir.resolve("owner.credit").toString())
            .setIndex(RING)
            .setTag(tag)
            .setItemsPath(path.toString())
            .build());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static SharedItems.Writer.Offer offer(SharedItems.Writer w, long index, String value) {
    byte[] b = bytes(value);
    return w.offer(index, 0, b, b.length);
  }

  private static List<String> drain(SharedItems.Reader r) {
    List<String> out = new ArrayList<>();
    r.drain(
        0,
        (index, attempt, payload) ->
            out.add(index + "@" + attempt + "=" + new String(payload, StandardCharsets.UTF_8)));
    return out;
  }

  @Test
  void onlyWhileSomeoneLooksTheProducerWritesIntoTheRing() {
    SharedItems.Reader reader = new SharedItems.Reader(file, RING, 5);
    SharedItems.Writer writer = writer(5);

    assertThat(offer(writer, 0, "a"))
        .as("nobody polls")
        .isEqualTo(SharedItems.Writer.Offer.REFUSED);
    reader.polling(true);
    assertThat(offer(writer, 1, "b")).isEqualTo(SharedItems.Writer.Offer.WRITTEN);
    byte[] c = bytes("c");
    assertThat(writer.offer(2, 1, c, c.length)).isEqualTo(SharedItems.Writer.Offer.WRITTEN);
    assertThat(reader.hasNew()).isTrue();

    assertThat(drain(reader)).containsExactly("1@0=b", "2@1=c");
    assertThat(reader.hasNew()).isFalse();
    assertThat(writer.drained()).isEqualTo(2);

    reader.polling(false);
    assertThat(offer(writer, 3, "d")).isEqualTo(SharedItems.Writer.Offer.REFUSED);
  }

  @Test
  void aFullRingRefusesUntilTheOwnerDrains() {
    SharedItems.Writer writer = polled();
    for (int i = 0; i < SharedItems.ENTRIES; i++) {
      assertThat(offer(writer, i, "x" + i)).isEqualTo(SharedItems.Writer.Offer.WRITTEN);
    }
    assertThat(offer(writer, 64, "y")).isEqualTo(SharedItems.Writer.Offer.REFUSED);
    assertThat(drain(reader))
        .hasSize(SharedItems.ENTRIES)
        .startsWith("0@0=x0")
        .endsWith("63@0=x63");
    assertThat(offer(writer, 64, "y")).isEqualTo(SharedItems.Writer.Offer.WRITTEN);
    assertThat(drain(reader)).containsExactly("64@0=y");
  }

  @Test
  void tooLargeAnItemIsRefused() {
    SharedItems.Reader reader = new SharedItems.Reader(file, RING, 5);
    reader.polling(true);
    byte[] big = new byte[SharedItems.PAYLOAD_BYTES + 1];
    assertThat(writer(5).offer(0, 0, big, big.length)).isEqualTo(SharedItems.Writer.Offer.REFUSED);
  }

  @Test
  void aClearedRingTakesNothingFromItsOldProducer() {
    SharedItems.Reader reader = new SharedItems.Reader(file, RING, 5);
    SharedItems.Writer old = writer(5);
    reader.polling(true);
    reader.clear();
    assertThat(offer(old, 0, "a")).isEqualTo(SharedItems.Writer.Offer.REFUSED);
  }

  @Test
  void claimThenCommitADrainStopsAtAnEntryNotCommittedYet() {
    SharedItems.Writer writer = polled();
    offer(writer, 0, "a");
    // A second producer claimed position 1 and has not committed it.
    long ring = SharedItems.ringOffset(RING);
    SharedCredit.LONG.getAndAdd(file, ring + SharedItems.PUBLISHED, 1L);
    assertThat(drain(reader)).containsExactly("0@0=a");
    assertThat(reader.hasNew()).as("a claim alone is no news to a spinning consumer").isFalse();
    assertThat(drain(reader)).isEmpty();
    assertThat(writer.drained()).isEqualTo(1);
  }

  @Test
  void aClaimNeverCommittedIsSkippedOnceALaterEntryOfTheAttemptIsCommitted() {
    SharedItems.Writer writer = polled();
    // A producer claimed position 0 and died before its commit; the retry's producer writes next.
    long ring = SharedItems.ringOffset(RING);
    SharedCredit.LONG.getAndAdd(file, ring + SharedItems.PUBLISHED, 1L);
    byte[] b = bytes("b");
    assertThat(writer.offer(0, 1, b, b.length)).isEqualTo(SharedItems.Writer.Offer.WRITTEN);
    List<String> out = new ArrayList<>();
    reader.drain(0, (index, attempt, payload) -> out.add(index + "@" + attempt));
    assertThat(out).as("position 0 may still be the attempt-0 producer's, mid-write").isEmpty();
    reader.drain(1, (index, attempt, payload) -> out.add(index + "@" + attempt));
    assertThat(out).containsExactly("0@1");
    assertThat(writer.drained()).isEqualTo(2);
  }

  @Test
  void anItemTheOwnerCannotTakeStaysUndrained() {
    SharedItems.Writer writer = polled();
    offer(writer, 0, "a");
    offer(writer, 1, "b");
    assertThat(reader.drain(0, (index, attempt, payload) -> index == 0)).isEqualTo(1);
    assertThat(writer.drained()).isEqualTo(1);
  }

  @Test
  void aTornEntryStopsTheDrainAndItsProducersItemsStayUndrained() {
    SharedItems.Writer writer = polled();
    offer(writer, 0, "a");
    offer(writer, 1, "b");
    long entry1 = SharedItems.ringOffset(RING) + SharedItems.FIRST_ENTRY + SharedItems.ENTRY_BYTES;
    file.set(ValueLayout.JAVA_BYTE, entry1 + SharedItems.E_PAYLOAD, (byte) 'z');
    assertThat(drain(reader)).containsExactly("0@0=a");
    assertThat(writer.drained()).as("the producer reports item 1 again").isEqualTo(1);
  }

  @Test
  void anEntryOfAnotherStreamsTagIsSkipped() {
    SharedItems.Reader reader = new SharedItems.Reader(file, RING, 5);
    reader.polling(true);
    long ring = SharedItems.ringOffset(RING);
    // A producer of the ring's last stream (tag 4) passed its tag check just before the owner
    // handed the ring to this stream, and wrote afterwards.
    SharedCredit.LONG.setVolatile(file, ring + SharedItems.RING_TAG, 4L);
    assertThat(offer(writer(4), 9, "stale")).isEqualTo(SharedItems.Writer.Offer.WRITTEN);
    SharedCredit.LONG.setVolatile(file, ring + SharedItems.RING_TAG, 5L);
    offer(writer(5), 0, "a");
    assertThat(drain(reader)).containsExactly("0@0=a");
    assertThat(reader.hasNew()).isFalse();
  }

  @Test
  void aRingHandedToANewStreamStartsPastWhatItsLastStreamLeft() {
    SharedItems.Reader first = new SharedItems.Reader(file, RING, 5);
    first.polling(true);
    offer(writer(5), 0, "left behind");
    first.clear();
    SharedItems.Reader second = new SharedItems.Reader(file, RING, 6);
    assertThat(second.hasNew()).isFalse();
    second.polling(true);
    offer(writer(6), 0, "new");
    assertThat(drain(second)).containsExactly("0@0=new");
  }
}
