package dev.sluice.runtime.objectstore;

import dev.sluice.ObjectId;
import dev.sluice.runtime.common.OwnerOnlyFiles;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spilling for the store: which objects may leave memory when room is needed (least recently used
 * first), the writing of an object's bytes to the node's spill directory (owner-only files) and
 * their reading back, and the count of what is spilled. Ranges of the mapping are freed and taken
 * through the store ({@link Room}).
 *
 * <p>Threads: not thread-safe; guarded by the store's lock ({@link SharedMemoryStore}'s monitor).
 * The disk I/O runs under that lock: moving it out would let a pin, a delete or a new object reach
 * a range while its bytes are copied, and spills are rare and bounded by the object's size.
 */
final class Spiller {
  private static final Logger log = LoggerFactory.getLogger(Spiller.class);

  /** What making room needs of the store; called under the store's lock. */
  interface Room {
    /** Takes {@code need} bytes by first fit: their offset, or -1. */
    long fit(long need);

    /** Removes {@code id} from the store, freeing its range (a secondary copy). */
    void drop(ObjectId id, StoredObject e);

    /** Frees {@code [offset, offset + size)}: the object there is on disk now. */
    void free(long offset, long size);

    /** Bytes in use, for the log. */
    long used();
  }

  private final Path spillDir;
  private final MemorySegment segment;
  private long spilledBytes;
  private long spilledObjects;

  Spiller(Path spillDir, MemorySegment segment) {
    this.spillDir = spillDir;
    this.segment = segment;
  }

  Path directory() {
    return spillDir;
  }

  long spilledBytes() {
    return spilledBytes;
  }

  long spilledObjects() {
    return spilledObjects;
  }

  /**
   * Makes room for {@code need} bytes (an object of {@code size}): spills the objects that may
   * leave memory, least recently used first, until a first fit succeeds; a secondary copy among
   * them is dropped instead. Returns the offset taken, or -1 if nothing fits even then.
   */
  long spillUntilFits(
      Map<ObjectId, StoredObject> objects, ObjectId keep, long need, long size, Room room) {
    long offset = -1;
    long spilledNow = 0;
    for (Iterator<ObjectId> it = victims(objects, keep).iterator(); it.hasNext() && offset < 0; ) {
      ObjectId victim = it.next();
      StoredObject e = objects.get(victim);
      if (e.secondary) {
        room.drop(victim, e);
      } else if (spill(victim, e)) {
        room.free(e.offset, e.size);
        e.offset = -1;
        spilledNow += e.size;
      } else {
        continue;
      }
      offset = room.fit(need);
    }
    if (spilledNow > 0) {
      log.info(
          "object store spilled {} MiB to {} to fit {} bytes; now {} MiB used of {} MiB, "
              + "{} MiB spilled in {} objects",
          spilledNow >> 20,
          spillDir,
          size,
          room.used() >> 20,
          segment.byteSize() >> 20,
          spilledBytes >> 20,
          spilledObjects);
    }
    return offset;
  }

  /**
   * Drops unpinned secondary copies (pulled from other nodes, so pulled again when needed), least
   * recently used first, until a first fit of {@code need} bytes succeeds: its offset, or -1.
   */
  long dropSecondariesUntilFits(Map<ObjectId, StoredObject> objects, long need, Room room) {
    long offset = -1;
    for (Iterator<ObjectId> it = droppableSecondaries(objects).iterator();
        it.hasNext() && offset < 0; ) {
      ObjectId victim = it.next();
      log.debug("object store drops secondary copy {} to make room", victim);
      room.drop(victim, objects.get(victim));
      offset = room.fit(need);
    }
    return offset;
  }

  /**
   * The objects that may leave memory, least recently used first ({@code objects} is in access
   * order): sealed, unpinned, in memory, and not {@code keep} (may be null).
   */
  private static List<ObjectId> victims(Map<ObjectId, StoredObject> objects, ObjectId keep) {
    List<ObjectId> victims = new ArrayList<>();
    for (Map.Entry<ObjectId, StoredObject> me : objects.entrySet()) {
      StoredObject e = me.getValue();
      if (e.sealed && e.pins == 0 && e.offset >= 0 && !me.getKey().equals(keep)) {
        victims.add(me.getKey());
      }
    }
    return victims;
  }

  /** The secondary copies that may be dropped, least recently used first: sealed, unpinned. */
  private static List<ObjectId> droppableSecondaries(Map<ObjectId, StoredObject> objects) {
    List<ObjectId> victims = new ArrayList<>();
    for (Map.Entry<ObjectId, StoredObject> me : objects.entrySet()) {
      StoredObject e = me.getValue();
      if (e.secondary && e.sealed && e.pins == 0) {
        victims.add(me.getKey());
      }
    }
    return victims;
  }

  /**
   * Writes the bytes of {@code e} (in memory at {@code e.offset}) to its spill file and records the
   * file in {@code e}; false, with a warning, if that fails. The caller frees the range.
   */
  private boolean spill(ObjectId id, StoredObject e) {
    Path target = spillDir.resolve(id.hex());
    try {
      OwnerOnlyFiles.createDirectories(spillDir);
      try (FileChannel ch =
          OwnerOnlyFiles.open(
              target,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        ByteBuffer src = segment.asSlice(e.offset, e.size).asByteBuffer();
        while (src.hasRemaining()) {
          ch.write(src);
        }
      }
    } catch (IOException ex) {
      log.warn("could not spill object {} to {}: {}", id, target, ex.toString());
      return false;
    }
    e.spilledTo = target;
    spilledBytes += e.size;
    spilledObjects++;
    return true;
  }

  /**
   * Reads the spill file of {@code e} into {@code [offset, offset + e.size)} of the mapping.
   *
   * @throws IOException if the file cannot be read or has another size
   */
  void readBack(StoredObject e, long offset) throws IOException {
    try (FileChannel ch = FileChannel.open(e.spilledTo, StandardOpenOption.READ)) {
      if (ch.size() != e.size) {
        throw new IOException("spilled copy has " + ch.size() + " bytes, expected " + e.size);
      }
      ByteBuffer dst = segment.asSlice(offset, e.size).asByteBuffer();
      while (dst.hasRemaining()) {
        if (ch.read(dst) < 0) {
          throw new IOException("spilled copy ended early");
        }
      }
    }
  }

  /** Removes the spill file of {@code e}, if it has one. */
  void deleteFile(StoredObject e) {
    if (e.spilledTo == null) {
      return;
    }
    try {
      Files.deleteIfExists(e.spilledTo);
    } catch (IOException ex) {
      log.warn("could not remove spilled object {}: {}", e.spilledTo, ex.toString());
    }
    spilledBytes -= e.size;
    spilledObjects--;
    e.spilledTo = null;
  }
}
