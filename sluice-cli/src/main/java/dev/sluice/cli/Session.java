package dev.sluice.cli;

import dev.sluice.runtime.common.SessionDirectories;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The session directory of one started daemon, {@code <root>/session_<timestamp>_<pid>} with a
 * {@code logs/} folder (see {@link SessionDirectories}: creating it links {@code session_latest} to
 * it and removes old unused sessions; the daemon marks it as its own once it runs).
 */
final class Session {
  private final Path root;
  private Path dir;

  private Session(Path root, Path dir) {
    this.root = root;
    this.dir = dir;
  }

  /** A session directory name under {@code root}, not created yet. */
  static Session plan(Path root) {
    return new Session(
        root, root.resolve(SessionDirectories.plannedName(SessionDirectories.SESSION_PREFIX)));
  }

  /** The session directory. */
  Path dir() {
    return dir;
  }

  /** Creates the directory and its {@code logs/} (its name may differ from the planned one). */
  void create() throws IOException {
    dir = SessionDirectories.create(root, SessionDirectories.SESSION_PREFIX, false);
  }
}
