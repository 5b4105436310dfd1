package dev.sluice.cli;

import dev.sluice.runtime.common.OwnerOnlyFiles;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The session directory of one started daemon, {@code <root>/session_<timestamp>_<pid>} with a
 * {@code logs/} folder; a numeric suffix keeps two sessions started in the same millisecond apart.
 */
final class Session {
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd_HH-mm-ss_SSS");

  private Path dir;

  private Session(Path dir) {
    this.dir = dir;
  }

  /** A session directory name under {@code root}, not created yet. */
  static Session plan(Path root) {
    return new Session(
        root.resolve(
            "session_" + LocalDateTime.now().format(STAMP) + "_" + ProcessHandle.current().pid()));
  }

  /** The session directory. */
  Path dir() {
    return dir;
  }

  /** Creates the directory and its {@code logs/}, with a suffix if the name is taken. */
  void create() throws IOException {
    OwnerOnlyFiles.createDirectories(dir.getParent());
    Path base = dir;
    for (int i = 2; ; i++) {
      try {
        OwnerOnlyFiles.createDirectory(dir);
        break;
      } catch (FileAlreadyExistsException e) {
        dir = base.resolveSibling(base.getFileName() + "_" + i);
      }
    }
    OwnerOnlyFiles.createDirectories(dir.resolve("logs"));
  }
}
