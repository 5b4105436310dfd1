package dev.sluice.runtime.logging;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The log files of one node's session ({@code <session>/logs}), as {@code sluice logs} sees them:
 * listed, and read from their last lines on, following them while they grow and across a rotation
 * (the file renamed to {@code .1} and a new one started). Only plain names of files directly in the
 * directory are served: no separators, no {@code ..}, no links leading out.
 *
 * <p>Thread-safe (stateless); each {@link Reader} is used by one thread.
 */
public final class LogFiles {
  private final Path dir;

  /** The log files of {@code logsDir}. */
  public LogFiles(Path logsDir) {
    this.dir = logsDir;
  }

  /** One file. */
  public record Entry(String name, long size, long modifiedMillis) {}

  /** The regular files of the directory, by name; empty if there is none yet. */
  public List<Entry> list() throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> all = Files.list(dir)) {
      return all.map(this::entry)
          .filter(Objects::nonNull)
          .sorted(Comparator.comparing(Entry::name))
          .toList();
    }
  }

  private Entry entry(Path p) {
    try {
      BasicFileAttributes a =
          Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      return a.isRegularFile()
          ? new Entry(p.getFileName().toString(), a.size(), a.lastModifiedTime().toMillis())
          : null;
    } catch (IOException e) {
      return null; // removed meanwhile
    }
  }

  /**
   * The file named {@code name} in the directory.
   *
   * @throws IllegalArgumentException if {@code name} is not a plain file name
   * @throws NoSuchFileException if there is no such regular file
   */
  public Path resolve(String name) throws IOException {
    if (!isPlainName(name)) {
      throw new IllegalArgumentException("not a log file name: '" + name + "'");
    }
    Path file = dir.resolve(name);
    if (!file.normalize().getParent().equals(dir.normalize())
        || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new NoSuchFileException(name, null, "no such log file in " + dir);
    }
    return file;
  }

  /**
   * Whether {@code name} can name a file directly in a logs directory: not empty, not {@code .} or
   * {@code ..}, without a path separator or NUL.
   */
  public static boolean isPlainName(String name) {
    return name != null
        && !name.isEmpty()
        && !name.equals(".")
        && !name.equals("..")
        && !name.contains("/")
        && !name.contains("\\")
        && name.indexOf('\0') < 0;
  }

  /** A reader of {@code name} starting at its last {@code tailLines} lines (negative: all). */
  public Reader open(String name, int tailLines) throws IOException {
    return open(name, tailLines, 0);
  }

  /**
   * A reader of {@code name} starting at its last {@code tailLines} lines (negative: all), or, when
   * those hold more than {@code maxBytes} (positive), at the first line that starts within its last
   * {@code maxBytes} bytes.
   */
  public Reader open(String name, int tailLines, long maxBytes) throws IOException {
    Path file = resolve(name);
    long start = tailLines < 0 ? 0 : LogTail.startOfLastLines(file, tailLines);
    if (maxBytes > 0) {
      start = Math.max(start, LogTail.startOfLinesWithin(file, maxBytes));
    }
    return new Reader(file, start);
  }

  /**
   * A reader of {@code name} starting at byte {@code offset}, or at its start when the file is
   * shorter (it was rotated or truncated since the offset was read).
   */
  public Reader openAt(String name, long offset) throws IOException {
    Path file = resolve(name);
    long size = Files.size(file);
    return new Reader(file, offset < 0 || offset > size ? 0 : offset);
  }

  /**
   * Reads one log file from a position on: {@link #read} returns what is there now, and later calls
   * what was appended since; when the file was rotated (its name now names another file), the rest
   * of the old file comes first, then the new one from its start.
   *
   * <p>Not thread-safe.
   */
  public static final class Reader implements AutoCloseable {
    private final Path file;
    private FileChannel channel;
    private Object key;
    private long position;

    Reader(Path file, long start) throws IOException {
      this.file = file;
      this.position = start;
      reopen();
    }

    private void reopen() throws IOException {
      if (channel != null) {
        channel.close();
      }
      channel = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
      key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
    }

    /** Where the next {@link #read} reads from. */
    public long position() {
      return position;
    }

    /** Fills {@code into} with the next bytes; returns how many (0: nothing new yet). */
    public int read(ByteBuffer into) throws IOException {
      int n = channel.read(into, position);
      if (n > 0) {
        position += n;
        return n;
      }
      if (channel.size() < position) {
        position = 0; // truncated in place
        return 0;
      }
      if (rotated()) {
        reopen();
        position = 0;
      }
      return 0;
    }

    private boolean rotated() {
      try {
        Object now = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        return now != null && !now.equals(key);
      } catch (IOException e) {
        return false; // between the rename and the new file: look again later
      }
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
