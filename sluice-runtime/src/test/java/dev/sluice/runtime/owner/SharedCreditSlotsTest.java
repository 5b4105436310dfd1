package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.generator.SharedCredit;
import dev.sluice.runtime.rpc.proto.SharedCreditSlot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rules of DESIGN "Shared credit" that the owner's file and a producer's view keep. */
class SharedCreditSlotsTest {
  @TempDir Path dir;

  private SharedCreditSlots slots() {
    return SharedCreditSlots.nextTo(dir.resolve("driver-1").toString());
  }

  @Test
  void theProducerReadsTheCountTheConsumerPublished() {
    try (SharedCreditSlots slots = slots()) {
      SharedCreditSlots.Slot slot = slots.allocate(3);
      SharedCredit view = SharedCredit.open(slot.message());
      assertThat(view.consumed()).as("the count at allocation").isEqualTo(3);
      slot.publish(11);
      assertThat(view.consumed()).isEqualTo(11);
    }
  }

  @Test
  void aSlotIsTheStreamsOnlyWhileItCarriesItsTagEvenOnceReused() {
    try (SharedCreditSlots slots = slots()) {
      SharedCreditSlots.Slot first = slots.allocate(0);
      SharedCredit firstView = SharedCredit.open(first.message());
      first.publish(5);
      first.free();
      assertThat(firstView.consumed()).as("a freed slot reads unavailable").isEqualTo(-1);
      first.publish(9);
      assertThat(firstView.consumed()).as("a freed slot takes no more counts").isEqualTo(-1);

      SharedCreditSlots.Slot second = slots.allocate(7);
      assertThat(second.message().getIndex()).as("the slot is reused").isEqualTo(0);
      assertThat(second.message().getTag()).isNotEqualTo(first.message().getTag());
      assertThat(firstView.consumed())
          .as("the old stream never reads the new stream's count")
          .isEqualTo(-1);
      assertThat(SharedCredit.open(second.message()).consumed()).isEqualTo(7);
    }
  }

  @Test
  void everyEndedStreamGivesItsSlotBackAndStreamsPastTheSlotsGetNone() {
    try (SharedCreditSlots slots = slots()) {
      List<SharedCreditSlots.Slot> taken = new ArrayList<>();
      for (int i = 0; i < SharedCredit.SLOTS; i++) {
        taken.add(slots.allocate(0));
      }
      assertThat(taken).doesNotContainNull();
      assertThat(slots.allocate(0)).as("every slot taken: replies alone").isNull();
      taken.forEach(SharedCreditSlots.Slot::free);
      assertThat(slots.inUse()).isZero();
      assertThat(slots.allocate(0)).isNotNull();
    }
  }

  @Test
  void theFileIsOwnerOnlyAndDeletedOnClose() throws IOException {
    Path file;
    SharedCreditSlots.Slot slot;
    try (SharedCreditSlots slots = slots()) {
      slot = slots.allocate(0);
      file = Path.of(slot.message().getPath());
      assertThat(file.getParent()).isEqualTo(dir);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .isEqualTo("rw-------");
      assertThat(Files.size(file)).isEqualTo(SharedCredit.FILE_BYTES);
    }
    assertThat(file).doesNotExist();
    slot.publish(4); // a stream that outlives its process's slots writes harmlessly
    slot.free();
  }

  @Test
  void switchedOffOrWithoutASocketNoSlotIsHandedOut() {
    assertThat(SharedCreditSlots.nextTo("").allocate(0)).isNull();
    String before = System.getProperty(SharedCredit.ENABLED_PROPERTY);
    System.setProperty(SharedCredit.ENABLED_PROPERTY, "false");
    try (SharedCreditSlots slots = slots()) {
      assertThat(slots.allocate(0)).isNull();
    } finally {
      if (before == null) {
        System.clearProperty(SharedCredit.ENABLED_PROPERTY);
      } else {
        System.setProperty(SharedCredit.ENABLED_PROPERTY, before);
      }
    }
    assertThat(dir.resolve("driver-1" + SharedCreditSlots.SUFFIX)).doesNotExist();
  }

  @Test
  void aProducerThatCannotMapTheFileTakesRepliesAlone() throws IOException {
    SharedCreditSlot missing =
        SharedCreditSlot.newBuilder()
            .setPath(dir.resolve("gone.credit").toString())
            .setIndex(0)
            .setTag(1)
            .build();
    assertThat(SharedCredit.open(missing)).as("no such file").isNull();
    Path small = Files.write(dir.resolve("small.credit"), new byte[64]);
    assertThat(SharedCredit.open(missing.toBuilder().setPath(small.toString()).build()))
        .as("not the owner's size")
        .isNull();
  }
}
