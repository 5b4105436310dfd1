package dev.sluice.runtime.objectstore;

import dev.sluice.ObjectBuffer;
import dev.sluice.ObjectId;
import dev.sluice.ObjectLostException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * The zero-copy views a client hands out over pinned objects ({@link MappedObjectBuffer}): each in
 * an arena of its own over the process's mapping of the store, tracked until it is closed, so that
 * closing the client ends them (their reads fail) before the mapping can go away.
 *
 * <p>Threads: thread-safe; {@code open} is a concurrent set, shared with the store in the node
 * manager's own process.
 */
final class PinnedViews {
  private final Path file;
  private final MemorySegment segment;
  private final Set<Arena> open;
  private volatile boolean rescopeAllowed = true;
  private volatile boolean closed;

  /**
   * Views of slices of {@code segment}, the mapping of {@code file}, tracked in {@code open} (a
   * concurrent set).
   */
  PinnedViews(Path file, MemorySegment segment, Set<Arena> open) {
    this.file = file;
    this.segment = segment;
    this.open = open;
  }

  /**
   * A buffer over {@code pinned} (a pinned slice of the mapping holding object {@code id}); closing
   * it ends the view and runs {@code unpin}, once. If the view cannot be made, {@code unpin} runs
   * at once.
   *
   * @throws ObjectLostException if the range cannot be mapped
   */
  ObjectBuffer open(ObjectId id, MemorySegment pinned, Runnable unpin) {
    Arena own = Arena.ofShared();
    MemorySegment view;
    try {
      view = viewIn(pinned, own);
    } catch (IOException | RuntimeException e) {
      own.close();
      unpin.run();
      throw new ObjectLostException(
          "object " + id + " could not be mapped from " + file + ": " + e);
    }
    MappedObjectBuffer buffer =
        new MappedObjectBuffer(
            view,
            own,
            () -> {
              open.remove(own);
              unpin.run();
            });
    open.add(own);
    if (closed) {
      buffer.close();
    }
    return buffer;
  }

  /**
   * {@code pinned} (a slice of this process's mapping of the store) as a read-only segment whose
   * lifetime is {@code own}'s. The slice is re-scoped rather than mapped again: a fresh mapping
   * costs a page fault per page on first read (half the bandwidth of a 64 MiB read here), while the
   * store mapping's pages are already in this process's page tables. Re-scoping is a restricted
   * method; where native access is denied, the range is mapped on its own instead.
   */
  private MemorySegment viewIn(MemorySegment pinned, Arena own) throws IOException {
    if (rescopeAllowed) {
      try {
        return pinned.reinterpret(own, null).asReadOnly();
      } catch (IllegalCallerException e) {
        rescopeAllowed = false;
      }
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return ch.map(
          FileChannel.MapMode.READ_ONLY,
          pinned.address() - segment.address(),
          pinned.byteSize(),
          own);
    }
  }

  /**
   * Ends every open view, and any opened from now on; false if one is in use by a read in progress
   * and could not be ended, when the memory under it must stay mapped.
   */
  boolean close() {
    closed = true;
    return StoreFile.endViews(open);
  }
}
