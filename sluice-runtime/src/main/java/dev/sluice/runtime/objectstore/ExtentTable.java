package dev.sluice.runtime.objectstore;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The node's writer-extent table: a small shared-memory file next to the store, one slot per
 * writing process, each holding the {@code cursor} and {@code end} of the extent of the store
 * that the node manager granted that process. A writer claims room for an object by moving its
 * slot's cursor forward with a compare-and-set, with no round trip to the node manager; the node
 * manager takes the unclaimed rest of an extent back by setting the cursor to the end, also with
 * a compare-and-set, so a claim and a revocation never both win the same bytes. (Thread-local
 * allocation buffers, shared between processes.)
 *
 * <p>Protocol rules:
 *
 * <ul>
 *   <li>Only the node manager writes {@code end}, and it reopens a slot (a new extent) only while
 *       the slot's writer is waiting for that extent, so no claim runs concurrently with it; the
 *       sequence (end := 0, cursor := start, end := new end) still fails any stale claim.
 *   <li>A claim is {@code [cursor, cursor + size)} with {@code cursor + size <= end}; sizes are in
 *       the store's 64-byte units.
 * </ul>
 *
 * <p>Thread-safe and process-safe: every access is a volatile or atomic access of an aligned
 * long in shared memory. The mapping lives until {@link #close}.
 */
final class ExtentTable implements AutoCloseable {
  /** Slots in the table: writing processes on one node at a time. */
  static final int SLOTS = 512;
  /** One slot per cache line, so two writers never contend on one line. */
  private static final long SLOT_BYTES = 64;
  private static final long CURSOR = 0;
  private static final long END = 8;
  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

  private final Arena arena;
  private final MemorySegment table;

  private ExtentTable(Arena arena, MemorySegment table) {
    this.arena = arena;
    this.table = table;
  }

  /** The table file of the store file {@code storeFile}. */
  static Path fileOf(Path storeFile) {
    return storeFile.resolveSibling(storeFile.getFileName() + ".extents");
  }

  /** Creates and maps the table of the store {@code storeFile}: every slot closed. */
  static ExtentTable create(Path storeFile) throws IOException {
    Path file = fileOf(storeFile);
    Files.deleteIfExists(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.truncate(SLOTS * SLOT_BYTES);
      ch.position(SLOTS * SLOT_BYTES - 1);
      ch.write(java.nio.ByteBuffer.wrap(new byte[1]));
      return mapped(ch);
    }
  }

  /** Maps the existing table of the store {@code storeFile}. */
  static ExtentTable open(Path storeFile) throws IOException {
    try (FileChannel ch = FileChannel.open(fileOf(storeFile), StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      return mapped(ch);
    }
  }

  private static ExtentTable mapped(FileChannel ch) throws IOException {
    Arena arena = Arena.ofShared();
    try {
      return new ExtentTable(arena, ch.map(FileChannel.MapMode.READ_WRITE, 0,
          SLOTS * SLOT_BYTES, arena));
    } catch (IOException | RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  /**
   * Claims {@code size} bytes of slot {@code slot}'s extent: their offset in the store, or -1 if
   * the extent has less room left (or was revoked).
   */
  long claim(int slot, long size) {
    long base = slot * SLOT_BYTES;
    while (true) {
      long cursor = (long) LONG.getVolatile(table, base + CURSOR);
      long end = (long) LONG.getVolatile(table, base + END);
      if (cursor + size > end) {
        return -1;
      }
      if (LONG.compareAndSet(table, base + CURSOR, cursor, cursor + size)) {
        return cursor;
      }
    }
  }

  /**
   * Ends slot {@code slot}'s extent: no claim succeeds after this. Returns the end of what was
   * claimed; {@code [returned, end)} was never handed out and is free again.
   */
  long revoke(int slot) {
    long base = slot * SLOT_BYTES;
    while (true) {
      long cursor = (long) LONG.getVolatile(table, base + CURSOR);
      long end = (long) LONG.getVolatile(table, base + END);
      if (cursor >= end) {
        return Math.min(cursor, end);
      }
      if (LONG.compareAndSet(table, base + CURSOR, cursor, end)) {
        return cursor;
      }
    }
  }

  /** Where slot {@code slot}'s next claim would start: its claimed end so far. */
  long cursor(int slot) {
    return (long) LONG.getVolatile(table, slot * SLOT_BYTES + CURSOR);
  }

  /** Opens slot {@code slot} on the extent {@code [start, end)}; see the class rules. */
  void open(int slot, long start, long end) {
    long base = slot * SLOT_BYTES;
    LONG.setVolatile(table, base + END, 0L);
    LONG.setVolatile(table, base + CURSOR, start);
    LONG.setVolatile(table, base + END, end);
  }

  /** Unmaps the table (the node manager also removes its file). */
  @Override
  public void close() {
    try {
      arena.close();
    } catch (IllegalStateException e) {
      // in use by another thread; the mapping goes with the process
    }
  }
}
