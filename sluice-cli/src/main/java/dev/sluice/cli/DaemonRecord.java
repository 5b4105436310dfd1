package dev.sluice.cli;

import dev.sluice.runtime.common.OwnerOnlyFiles;
import dev.sluice.runtime.common.ProcessCommandLine;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * What {@code sluice start} remembers of a daemon it started, so that {@code sluice stop} and
 * {@code sluice status} find it: a properties file {@code <session root>/daemons/<pid>.properties}.
 *
 * @param pid the daemon's process id
 * @param sessionDir the daemon's session directory
 * @param control the control service {@code host:port} of the daemon's cluster
 * @param nodeManager the daemon's node manager {@code host:port}
 * @param nodeId the node id (hex)
 * @param head whether the daemon runs the control service
 */
record DaemonRecord(
    long pid, Path sessionDir, String control, String nodeManager, String nodeId, boolean head) {

  private static final String DAEMON_MAIN = "dev.sluice.runtime.daemon.NodeDaemon";

  /** The directory of the records under {@code root}. */
  static Path directory(Path root) {
    return root.resolve("daemons");
  }

  /** The record's file under {@code root}. */
  Path file(Path root) {
    return directory(root).resolve(pid + ".properties");
  }

  /** Writes the record atomically. */
  void write(Path root) throws IOException {
    Properties p = new Properties();
    p.setProperty("pid", Long.toString(pid));
    p.setProperty("session_dir", sessionDir.toString());
    p.setProperty("control", control);
    p.setProperty("node_manager", nodeManager);
    p.setProperty("node_id", nodeId);
    p.setProperty("head", Boolean.toString(head));
    Path file = file(root);
    OwnerOnlyFiles.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (OutputStream out = OwnerOnlyFiles.newOutputStream(tmp)) {
      p.store(out, "sluice daemon");
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Removes the record, if still there. */
  void delete(Path root) throws IOException {
    Files.deleteIfExists(file(root));
  }

  /**
   * Every record under {@code root}, in pid order. Files that cannot be read as a record are
   * returned as {@code unreadable} for the caller to report or remove.
   */
  static List<DaemonRecord> readAll(Path root, List<Path> unreadable) throws IOException {
    Path dir = directory(root);
    List<DaemonRecord> records = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return records;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.properties")) {
      for (Path f : files) {
        Optional<DaemonRecord> r = read(f);
        if (r.isPresent()) {
          records.add(r.get());
        } else {
          unreadable.add(f);
        }
      }
    }
    records.sort((a, b) -> Long.compare(a.pid, b.pid));
    return records;
  }

  private static Optional<DaemonRecord> read(Path file) {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
      return Optional.of(
          new DaemonRecord(
              Long.parseLong(p.getProperty("pid")),
              Path.of(p.getProperty("session_dir")),
              p.getProperty("control"),
              p.getProperty("node_manager"),
              p.getProperty("node_id"),
              Boolean.parseBoolean(p.getProperty("head"))));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * The daemon's process if it still runs: a live process with the recorded pid whose command line
   * runs the node daemon (a pid reused by another program does not count).
   */
  Optional<ProcessHandle> process() {
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(h -> ProcessCommandLine.of(h).map(c -> c.contains(DAEMON_MAIN)).orElse(false));
  }

  /** A one-line description: kind, short node id, pid and addresses. */
  String describe() {
    return (head ? "head" : "node")
        + " "
        + NodeTable.shortId(nodeId)
        + " (pid "
        + pid
        + ", control service "
        + control
        + ", node manager "
        + nodeManager
        + ")";
  }
}
