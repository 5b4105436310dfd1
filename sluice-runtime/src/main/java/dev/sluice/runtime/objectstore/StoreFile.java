package dev.sluice.runtime.objectstore;

import dev.sluice.RuntimeStartupException;
import dev.sluice.runtime.common.OwnerOnlyFiles;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's file in a memory file system (owner-only, see {@link OwnerOnlyFiles}), its mapping in
 * this process, and the {@link ExtentTable} file beside it: creation (capped to the file system's
 * free space, since touching pages past it kills the process), removal of the files of exited
 * processes, and at close the end of this process's views, the unmapping and the removal of both
 * files.
 *
 * <p>Threads: {@link #create} and the static methods are safe anywhere; {@link #close} runs once,
 * under the store's lock. The set of open views is concurrent (clients add and remove views without
 * the store's lock).
 */
final class StoreFile {
  private static final Logger log = LoggerFactory.getLogger(StoreFile.class);

  /** Store files and their extent tables: {@code sluice-<node>-<pid>[.extents]}. */
  static final Pattern FILE_NAME = Pattern.compile("sluice-[0-9a-f]+-([0-9]+)(\\.extents)?");

  private final Path file;
  private final long capacity;
  private final Arena arena;
  private final MemorySegment segment;
  private final ExtentTable extentTable;
  private final Set<Arena> openViews = ConcurrentHashMap.newKeySet();

  private StoreFile(
      Path file, long capacity, Arena arena, MemorySegment segment, ExtentTable extentTable) {
    this.file = file;
    this.capacity = capacity;
    this.arena = arena;
    this.segment = segment;
    this.extentTable = extentTable;
  }

  /**
   * Creates the file {@code name} in {@code directory} with {@code capacity} bytes (rounded down to
   * {@link RangeAllocator#ALIGN}, and capped to nine tenths of the free space), maps it and creates
   * its extent table; removes files of exited processes first.
   *
   * @throws RuntimeStartupException naming the directory or file when either cannot be created
   */
  static StoreFile create(Path directory, String name, long capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("object store capacity must be positive: " + capacity);
    }
    long align = RangeAllocator.ALIGN;
    long rounded = capacity / align * align;
    Path file = directory.resolve(name);
    try {
      OwnerOnlyFiles.createDirectories(directory);
      removeStaleFiles(directory);
      long usable = Files.getFileStore(directory).getUsableSpace();
      if (usable > 0 && rounded > usable) {
        // Touching pages past the file system's free space would kill the process (SIGBUS).
        long capped = usable / 10 * 9 / align * align;
        log.warn(
            "object store capacity {} MiB exceeds the {} MiB free in {}; using {} MiB",
            rounded >> 20,
            usable >> 20,
            directory,
            capped >> 20);
        rounded = capped;
      }
    } catch (IOException | RuntimeException e) {
      throw new RuntimeStartupException(
          "cannot create the shared-memory object store directory " + directory + ": " + e, e);
    }
    Arena arena = Arena.ofShared();
    try {
      try (FileChannel ch =
          OwnerOnlyFiles.open(
              file,
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE)) {
        ch.truncate(rounded);
        ch.position(rounded - 1);
        ch.write(ByteBuffer.wrap(new byte[1]));
        MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, rounded, arena);
        ExtentTable table = ExtentTable.create(file);
        log.info("shared-memory object store: {} ({} MiB)", file, rounded >> 20);
        return new StoreFile(file, rounded, arena, seg, table);
      }
    } catch (IOException | RuntimeException e) {
      arena.close();
      try {
        Files.deleteIfExists(file);
        Files.deleteIfExists(ExtentTable.fileOf(file));
      } catch (IOException ignored) {
        // nothing more to clean
      }
      throw new RuntimeStartupException(
          "cannot create the shared-memory object store "
              + file
              + " ("
              + (rounded >> 20)
              + " MiB): "
              + e,
          e);
    }
  }

  /** See {@link SharedMemoryStore#fileName}. */
  static String fileName(String node, long pid) {
    return "sluice-" + node + "-" + pid;
  }

  /** See {@link SharedMemoryStore#removeStaleFiles}. */
  static int removeStaleFiles(Path directory) {
    int removed = 0;
    try (Stream<Path> files = Files.list(directory)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Matcher m = FILE_NAME.matcher(f.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        long pid = Long.parseLong(m.group(1));
        boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        if (!alive && Files.deleteIfExists(f)) {
          removed++;
          log.info("removed the object store file {} of exited process {}", f, pid);
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("could not look for stale object store files in {}: {}", directory, e.toString());
    }
    return removed;
  }

  /**
   * Ends the views whose arenas are in {@code views} (their reads fail from then on); false if one
   * is in use by an operation in progress and could not be ended, when the memory under it must
   * stay mapped.
   */
  static boolean endViews(Set<Arena> views) {
    boolean ended = true;
    for (Arena view : views) {
      try {
        view.close();
      } catch (IllegalStateException e) {
        ended &= !view.scope().isAlive();
      }
    }
    views.clear();
    return ended;
  }

  Path path() {
    return file;
  }

  /** The mapped length: the capacity asked for, rounded and capped. */
  long capacity() {
    return capacity;
  }

  MemorySegment segment() {
    return segment;
  }

  ExtentTable extentTable() {
    return extentTable;
  }

  /** The arenas of the zero-copy views a client in this process has open over the mapping. */
  Set<Arena> openViews() {
    return openViews;
  }

  /**
   * Removes the extent table's file (its mapping is closed by its owner first), ends the views,
   * unmaps unless a view is still in use (unmapping under a reader would crash it: the process
   * keeps the mapping then), and removes the file.
   */
  void close() {
    try {
      Files.deleteIfExists(ExtentTable.fileOf(file));
    } catch (IOException e) {
      log.warn("could not remove the extent table of {}: {}", file, e.toString());
    }
    if (endViews(openViews)) {
      try {
        arena.close();
      } catch (IllegalStateException e) {
        log.debug("object store mapping still in use at close: {}", e.toString());
      }
    } else {
      // Unmapping under a view still in use would crash its reader; the process keeps it.
      log.warn("object store {} closed with buffer views in use: left mapped", file);
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("could not remove the object store file {}: {}", file, e.toString());
    }
  }
}
