package dev.sluice.runtime.objectstore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes a node's store file, and its extent table, once the process that created it (named in
 * the file's name, see {@link SharedMemoryStore#fileName}) is gone: a node manager killed
 * outright cannot remove its own, and a file in a memory file system holds its memory until it
 * is deleted. A worker of that node calls this as it exits, so the file goes with the node's last
 * processes rather than when some later Sluice process starts. Stateless; any thread.
 */
public final class OrphanedStoreFile {
  private static final Logger log = LoggerFactory.getLogger(OrphanedStoreFile.class);
  private static final long POLL_MILLIS = 20;

  private OrphanedStoreFile() {}

  /**
   * Deletes {@code storeFile} and its extent table if the process that created it has exited,
   * waiting up to {@code wait} for it to (a process just killed may not have been reaped yet).
   * Returns true if the file is gone.
   */
  public static boolean removeIfOwnerGone(Path storeFile, Duration wait) {
    Matcher m = SharedMemoryStore.FILE_NAME.matcher(storeFile.getFileName().toString());
    if (!m.matches() || m.group(2) != null) {
      return false;
    }
    long owner = Long.parseLong(m.group(1));
    long deadline = System.nanoTime() + wait.toNanos();
    while (Files.exists(storeFile) && alive(owner)) {
      if (System.nanoTime() >= deadline) {
        return false;
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    try {
      boolean removed = Files.deleteIfExists(storeFile);
      Files.deleteIfExists(ExtentTable.fileOf(storeFile));
      if (removed) {
        log.info("removed the object store file {} of exited process {}", storeFile, owner);
      }
      return true;
    } catch (IOException e) {
      log.warn("could not remove the object store file {} of exited process {}: {}", storeFile,
          owner, e.toString());
      return false;
    }
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }
}
