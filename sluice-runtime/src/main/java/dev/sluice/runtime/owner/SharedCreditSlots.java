package dev.sluice.runtime.owner;

import dev.sluice.runtime.common.OwnerOnlyFiles;
import dev.sluice.runtime.generator.SharedCredit;
import dev.sluice.runtime.generator.SharedItems;
import dev.sluice.runtime.rpc.LocalSockets;
import dev.sluice.runtime.rpc.proto.SharedCreditSlot;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner's shared-credit file (DESIGN "Shared credit"): {@link SharedCredit#SLOTS} slots in a
 * file of the process's owner-only socket directory, mapped read-write here and read-only by
 * producers of the same node. Hands a slot to each same-node stream with a window of at least one
 * item ({@link #allocate}), with a tag never used before in this file; a slot is cleared and reused
 * once its stream ended ({@link Slot#free}). The file is created at the first allocation and
 * deleted by {@link #close}; the mapping stays until this object is unreachable, so a stream
 * publishing late never touches unmapped memory.
 *
 * <p>Threads: allocation and freeing are synchronized; a {@link Slot}'s writes are made by its
 * stream under the stream's lock.
 */
public final class SharedCreditSlots implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SharedCreditSlots.class);
  private static final VarHandle LONG = SharedCredit.LONG;

  /** What the file's name adds to the name of the process's socket. */
  public static final String SUFFIX = LocalSockets.CREDIT_SUFFIX;

  /** What the item rings' file adds to it (DESIGN "Shared items"). */
  public static final String ITEMS_SUFFIX = LocalSockets.ITEMS_SUFFIX;

  private final Path path;
  private final Path itemsPath;
  private final BitSet used = new BitSet(SharedCredit.SLOTS);
  private MemorySegment file;

  /** The item rings, mapped with the credit file; null if they could not be made (credit alone). */
  private MemorySegment items;

  private long lastTag;
  private boolean broken;
  private boolean closed;

  /** Slots in the file at {@code path} (not created yet); null path: none, ever. */
  public SharedCreditSlots(Path path) {
    this.path = path;
    this.itemsPath = path == null ? null : Path.of(path + ITEMS_SUFFIX);
  }

  /**
   * The slots of a process whose Unix socket is {@code localSocket}: the file sits next to it, in
   * the owner-only socket directory; none if the process has no socket. While shared credit is
   * switched off ({@link SharedCredit#ENABLED_PROPERTY}) no slot is handed out.
   */
  public static SharedCreditSlots nextTo(String localSocket) {
    boolean on = localSocket != null && !localSocket.isEmpty();
    return new SharedCreditSlots(on ? Path.of(localSocket + SUFFIX) : null);
  }

  /** One stream's slot. */
  public final class Slot {
    private final int index;
    private final long tag;
    private final SharedCreditSlot message;
    private final SharedItems.Reader ring;
    private boolean freed;

    private Slot(int index, long tag) {
      this.index = index;
      this.tag = tag;
      boolean rings = items != null && SharedItems.enabled();
      this.ring = rings ? new SharedItems.Reader(items, index, tag) : null;
      SharedCreditSlot.Builder m =
          SharedCreditSlot.newBuilder().setPath(path.toString()).setIndex(index).setTag(tag);
      if (ring != null) {
        m.setItemsPath(itemsPath.toString());
      }
      this.message = m.build();
    }

    /** The stream's item ring (DESIGN "Shared items"), or null: its items come in reports. */
    public SharedItems.Reader ring() {
      return ring;
    }

    /** What a reply tells the producer. */
    public SharedCreditSlot message() {
      return message;
    }

    /** Publishes the stream's cumulative consumed count (a release store). */
    public void publish(long consumed) {
      if (!freed) {
        LONG.setRelease(file, offset() + SharedCredit.CONSUMED, consumed);
      }
    }

    /** Clears the tag and gives the slot back: its producer reads "unavailable" from now on. */
    public void free() {
      if (freed) {
        return;
      }
      freed = true;
      release(this);
    }

    private long offset() {
      return SharedCredit.slotOffset(index);
    }
  }

  /**
   * A fresh slot holding {@code consumed}, or null if there is none (no file, it could not be made,
   * every slot is taken, or the slots are closed): the stream then takes replies alone.
   */
  public synchronized Slot allocate(long consumed) {
    if (path == null || broken || closed || !SharedCredit.enabled() || !mapped()) {
      return null;
    }
    int index = used.nextClearBit(0);
    if (index >= SharedCredit.SLOTS) {
      return null;
    }
    used.set(index);
    Slot slot = new Slot(index, ++lastTag);
    LONG.setRelease(file, slot.offset() + SharedCredit.CONSUMED, consumed);
    LONG.setRelease(file, slot.offset() + SharedCredit.TAG, slot.tag);
    return slot;
  }

  private synchronized void release(Slot slot) {
    if (closed) {
      return;
    }
    LONG.setRelease(file, slot.offset() + SharedCredit.TAG, 0L);
    if (slot.ring != null) {
      slot.ring.clear();
    }
    used.clear(slot.index);
  }

  /** Slots in use (tests). */
  synchronized int inUse() {
    return used.cardinality();
  }

  private boolean mapped() {
    if (file != null) {
      return true;
    }
    try (FileChannel ch =
        OwnerOnlyFiles.open(
            path,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      // Mapping past the end grows the file to its size; pages are touched only as slots are used.
      // An automatic arena: a stream that publishes after close() still writes mapped memory.
      file = ch.map(FileChannel.MapMode.READ_WRITE, 0, SharedCredit.FILE_BYTES, Arena.ofAuto());
    } catch (IOException | RuntimeException e) {
      log.info("shared credit unavailable ({}): streams take replies alone", e.toString());
      broken = true;
      return false;
    }
    items = mapItems();
    return true;
  }

  /** The item rings' file, or null (streams then report every item). */
  private MemorySegment mapItems() {
    if (!SharedItems.enabled()) {
      return null;
    }
    try (FileChannel ch =
        OwnerOnlyFiles.open(
            itemsPath,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      return ch.map(FileChannel.MapMode.READ_WRITE, 0, SharedItems.FILE_BYTES, Arena.ofAuto());
    } catch (IOException | RuntimeException e) {
      log.info("shared items unavailable ({}): streams report every item", e.toString());
      delete(itemsPath);
      return null;
    }
  }

  /**
   * Deletes the files; later allocations get none. The mapping itself goes when this object is
   * unreachable (an automatic arena), so a late publish still writes mapped memory. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (path != null && file != null) {
      delete(path);
    }
    if (items != null) {
      delete(itemsPath);
    }
  }

  private static void delete(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      log.debug("could not delete {}: {}", p, e.toString());
    }
  }
}
