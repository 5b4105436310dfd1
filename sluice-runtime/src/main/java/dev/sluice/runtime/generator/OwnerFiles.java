package dev.sluice.runtime.generator;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A producer's mappings of one kind of file an owner shares with the producers of its node (the
 * shared-credit files, the item-ring files), by path: each file is mapped once per process and
 * unmapped once no view of it is reachable (an automatic arena), so a worker that served many
 * owners keeps none of the gone ones.
 *
 * <p>Thread-safe.
 */
final class OwnerFiles {
  private static final Logger log = LoggerFactory.getLogger(OwnerFiles.class);

  private final String what;
  private final long bytes;
  private final boolean writable;
  private final ConcurrentHashMap<String, WeakReference<MemorySegment>> mapped =
      new ConcurrentHashMap<>();

  /** Files of {@code what}, each of {@code bytes}, mapped read-write if {@code writable}. */
  OwnerFiles(String what, long bytes, boolean writable) {
    this.what = what;
    this.bytes = bytes;
    this.writable = writable;
  }

  /** The mapping of the file at {@code path}, or null if it is missing or not of the right size. */
  MemorySegment map(String path) {
    WeakReference<MemorySegment> known = mapped.get(path);
    MemorySegment file = known == null ? null : known.get();
    if (file != null) {
      return file;
    }
    file = mapNew(Path.of(path));
    if (file != null) {
      mapped.values().removeIf(r -> r.get() == null);
      mapped.put(path, new WeakReference<>(file));
    }
    return file;
  }

  private MemorySegment mapNew(Path path) {
    try (FileChannel ch =
        writable
            ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
            : FileChannel.open(path, StandardOpenOption.READ)) {
      if (ch.size() != bytes) {
        log.debug("{} file {} has {} bytes, not {}", what, path, ch.size(), bytes);
        return null;
      }
      FileChannel.MapMode mode =
          writable ? FileChannel.MapMode.READ_WRITE : FileChannel.MapMode.READ_ONLY;
      return ch.map(mode, 0, bytes, Arena.ofAuto());
    } catch (IOException | RuntimeException e) {
      log.debug("cannot map {} file {}: {}", what, path, e.toString());
      return null;
    }
  }
}
