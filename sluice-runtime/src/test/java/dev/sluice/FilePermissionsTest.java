package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.driver.EmbeddedCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rule: shared memory only for the cluster's own processes. Every file and directory a node creates
 * (the shared-memory store file and its extent table, the store's directory, spilled objects, the
 * session directory, its logs) is readable and writable by the owning user only.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class FilePermissionsTest {
  private static final Set<PosixFilePermission> NOT_OWNER =
      EnumSet.of(
          PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
  private static final int MIB = 1 << 20;

  @TempDir Path sessionRoot;

  /** A directory of the test's own in the shared-memory file system, removed afterwards. */
  private final Path shmTestDir = Path.of("/dev/shm", "sluice-permissions-" + UUID.randomUUID());

  @AfterEach
  void stop() throws IOException {
    try {
      if (Sluice.isInitialized()) {
        SluiceTestSupport.stopAndAssertNoWorkers();
      }
    } finally {
      if (Files.exists(shmTestDir)) {
        try (Stream<Path> all = Files.walk(shmTestDir)) {
          for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
            Files.delete(p);
          }
        }
      }
    }
  }

  static String ran() {
    return "ran";
  }

  @Test
  void storeExtentsSpillSessionAndLogFilesAreOwnerOnly() throws IOException {
    Path storeDir = shmTestDir.resolve("store");
    SluiceTestSupport.start(
        SluiceConfig.builder()
            .numCpus(2)
            .objectStoreBytes(64L * MIB)
            .objectStoreDirectory(storeDir)
            .sessionRoot(sessionRoot)
            .build());
    assertThat(Sluice.task(FilePermissionsTest::ran).remote().get(Duration.ofSeconds(60)))
        .isEqualTo("ran");
    List<ObjectRef<byte[]>> held = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      held.add(Sluice.put(new byte[24 * MIB]));
    }
    assertThat(Sluice.objectStoreStats().spilledObjects()).as("objects spilled").isPositive();

    EmbeddedCluster cluster = (EmbeddedCluster) Sluice.runtime();
    Path store = cluster.nodeManager().objectStore().file();
    Path session = cluster.sessionDir();
    List<Path> checked =
        new ArrayList<>(
            List.of(storeDir, store, store.resolveSibling(store.getFileName() + ".extents")));
    try (Stream<Path> all = Files.walk(session)) {
      checked.addAll(all.toList());
    }
    assertThat(checked).as("spilled objects").anyMatch(p -> p.getParent().endsWith("spill"));
    assertThat(checked)
        .as("worker logs")
        .anyMatch(p -> p.getFileName().toString().startsWith("worker-"));
    for (Path p : checked) {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
      assertThat(perms)
          .as("permissions of %s: %s", p, PosixFilePermissions.toString(perms))
          .doesNotContainAnyElementsOf(NOT_OWNER)
          .contains(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    }
    held.clear();
  }
}
