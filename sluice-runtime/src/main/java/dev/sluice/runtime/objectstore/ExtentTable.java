package dev.sluice.runtime.objectstore;

import dev.sluice.runtime.common.OwnerOnlyFiles;
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
 * The node's writer-extent table: a small shared-memory file next to the store, with slots for the
 * extents of the store that the node manager granted to writing processes. Each slot holds a {@code
 * state} word (the extent's generation and its claim cursor) and the extent's {@code end}. A writer
 * claims room for an object by moving the cursor forward with a compare-and-set, with no round trip
 * to the node manager; the node manager takes the unclaimed rest of an extent back by moving the
 * cursor to the end, also with a compare-and-set, so a claim and a revocation never both win the
 * same bytes. (Thread-local allocation buffers, shared between processes.)
 *
 * <p>Protocol rules:
 *
 * <ul>
 *   <li>A claim names the generation its writer was granted and fails unless the slot still holds
 *       it: a writer that missed a revocation and a reopening of its slot (for itself or for
 *       another process) cannot claim from the new extent.
 *   <li>Only the node manager writes {@code end}, and it opens an extent by publishing the new
 *       generation with the cursor at the start before the new end, so no claim of the old
 *       generation can read the new end.
 *   <li>A claim is {@code [cursor, cursor + size)} with {@code cursor + size <= end}; sizes and
 *       offsets are in the store's 64-byte units.
 * </ul>
 *
 * <p>Thread-safe and process-safe: every access is a volatile or atomic access of an aligned long
 * in shared memory. The mapping lives until {@link #close}.
 */
final class ExtentTable implements AutoCloseable {
  /** Slots in the table (two per writing process at most). */
  static final int SLOTS = 512;

  /** One slot per cache line, so two writers never contend on one line. */
  private static final long SLOT_BYTES = 64;

  private static final long STATE = 0;
  private static final long END = 8;

  /** The state word: generation in the high bits, cursor in 64-byte units in the low ones. */
  private static final int CURSOR_BITS = 40;

  private static final long CURSOR_MASK = (1L << CURSOR_BITS) - 1;
  private static final long GENERATION_MASK = (1L << (64 - CURSOR_BITS)) - 1;
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
    try (FileChannel ch =
        OwnerOnlyFiles.open(
            file,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      ch.truncate(SLOTS * SLOT_BYTES);
      ch.position(SLOTS * SLOT_BYTES - 1);
      ch.write(java.nio.ByteBuffer.wrap(new byte[1]));
      return mapped(ch);
    }
  }

  /** Maps the existing table of the store {@code storeFile}. */
  static ExtentTable open(Path storeFile) throws IOException {
    try (FileChannel ch =
        FileChannel.open(fileOf(storeFile), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      return mapped(ch);
    }
  }

  private static ExtentTable mapped(FileChannel ch) throws IOException {
    Arena arena = Arena.ofShared();
    try {
      return new ExtentTable(
          arena, ch.map(FileChannel.MapMode.READ_WRITE, 0, SLOTS * SLOT_BYTES, arena));
    } catch (IOException | RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  private static long state(long generation, long offset) {
    return ((generation & GENERATION_MASK) << CURSOR_BITS) | (offset >>> 6);
  }

  private static long offset(long state) {
    return (state & CURSOR_MASK) << 6;
  }

  private static boolean sameGeneration(long state, long generation) {
    return (state >>> CURSOR_BITS) == (generation & GENERATION_MASK);
  }

  /**
   * Claims {@code size} bytes of the extent of generation {@code generation} in slot {@code slot}:
   * their offset in the store, or -1 if the extent has less room left, was revoked, or the slot
   * holds another generation now.
   */
  long claim(int slot, long generation, long size) {
    long base = slot * SLOT_BYTES;
    while (true) {
      long st = (long) LONG.getVolatile(table, base + STATE);
      if (!sameGeneration(st, generation)) {
        return -1;
      }
      long cursor = offset(st);
      long end = (long) LONG.getVolatile(table, base + END);
      if (cursor + size > end) {
        return -1;
      }
      if (LONG.compareAndSet(table, base + STATE, st, state(generation, cursor + size))) {
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
      long st = (long) LONG.getVolatile(table, base + STATE);
      long cursor = offset(st);
      long end = (long) LONG.getVolatile(table, base + END);
      if (cursor >= end) {
        return Math.min(cursor, end);
      }
      long generation = st >>> CURSOR_BITS;
      if (LONG.compareAndSet(table, base + STATE, st, state(generation, end))) {
        return cursor;
      }
    }
  }

  /** Where slot {@code slot}'s next claim would start: its claimed end so far. */
  long cursor(int slot) {
    return offset((long) LONG.getVolatile(table, slot * SLOT_BYTES + STATE));
  }

  /** Opens slot {@code slot} on the extent {@code [start, end)} of {@code generation}. */
  void open(int slot, long generation, long start, long end) {
    long base = slot * SLOT_BYTES;
    LONG.setVolatile(table, base + STATE, state(generation, start));
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
