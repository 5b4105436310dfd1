package dev.sluice.runtime.objectstore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Removes a node's store file, and its extent table, when the node manager that created it goes
 * away: a node manager killed outright cannot remove its own, and a file in a memory file system
 * holds its memory until it is deleted. A worker does this as it exits because its node manager is
 * gone or stopping (its standard input closed), so the file goes with the node's last processes
 * rather than when some later Sluice process starts. Removing the name does not disturb processes
 * that still map the file; the memory is freed when the last of them exits.
 *
 * <p>The removal is prepared up front ({@link #remover}) so that running it costs two system calls:
 * an exiting worker must stop at once, not keep running its task while classes load. Stateless; any
 * thread.
 */
public final class OrphanedStoreFile {
  private OrphanedStoreFile() {}

  /**
   * What deletes {@code storeFile} and its extent table when run (nothing, if the name is not a
   * store file's, see {@link SharedMemoryStore#fileName}); the run never throws or logs.
   */
  public static Runnable remover(Path storeFile) {
    String name = storeFile.getFileName().toString();
    if (!StoreFile.FILE_NAME.matcher(name).matches() || name.endsWith(".extents")) {
      return () -> {};
    }
    Path table = ExtentTable.fileOf(storeFile);
    Files.exists(storeFile);
    return () -> {
      try {
        Files.deleteIfExists(table);
        Files.deleteIfExists(storeFile);
      } catch (IOException | RuntimeException e) {
        // the process is exiting; a later store start removes what is left
      }
    };
  }
}
