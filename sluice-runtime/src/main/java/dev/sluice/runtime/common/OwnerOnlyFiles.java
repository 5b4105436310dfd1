package dev.sluice.runtime.common;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Creates the files and directories of a Sluice process (object store files, extent tables, spilled
 * objects, session and log directories, logs, records) readable and writable by the owning user
 * only: {@code rw-------} files and {@code rwx------} directories, set as they are created (never
 * widened first and narrowed after). On a file system without POSIX permissions they are created
 * with its defaults. Stateless; any thread.
 */
public final class OwnerOnlyFiles {
  private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");

  private OwnerOnlyFiles() {}

  private static boolean posix(Path path) {
    return path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  private static FileAttribute<?>[] fileAttrs(Path path) {
    return posix(path)
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE)}
        : new FileAttribute<?>[0];
  }

  /** Creates {@code dir} and its missing parents, each new one owner-only; returns {@code dir}. */
  public static Path createDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return dir;
    }
    return posix(dir)
        ? Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIR))
        : Files.createDirectories(dir);
  }

  /** Creates the directory {@code dir} (its parent must exist), owner-only. */
  public static Path createDirectory(Path dir) throws IOException {
    return posix(dir)
        ? Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR))
        : Files.createDirectory(dir);
  }

  /** Opens {@code file} with {@code options}; a file the call creates is owner-only. */
  public static FileChannel open(Path file, OpenOption... options) throws IOException {
    return FileChannel.open(file, Set.of(options), fileAttrs(file));
  }

  /**
   * An output stream to {@code file}, created owner-only (or truncated if it exists), as {@link
   * Files#newOutputStream} with no options.
   */
  public static OutputStream newOutputStream(Path file) throws IOException {
    return Channels.newOutputStream(
        open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE));
  }

  /**
   * Makes sure {@code file} exists, creating it (empty, owner-only) if not: for a log that a child
   * process then appends to. Returns {@code file}.
   */
  public static Path ensureFile(Path file) throws IOException {
    try {
      Files.createFile(file, fileAttrs(file));
    } catch (FileAlreadyExistsException e) {
      // appended to as it is
    }
    return file;
  }
}
