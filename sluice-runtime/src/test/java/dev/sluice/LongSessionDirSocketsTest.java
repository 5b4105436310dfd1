package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.driver.EmbeddedCluster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Rule checked (DESIGN "Same-node transport"): a session directory too deep for a Unix socket path
 * (the build's default test session root, made deeper still so that any checkout is too deep) does
 * not send a node's processes to TCP: their sockets go to a short owner-only directory under {@code
 * /tmp}, linked from the session directory, and leased task streams to the node's workers are
 * framed on them; the directory is gone after shutdown.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class LongSessionDirSocketsTest {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static Path sessionRoot;
  private static Path socketDir;

  @BeforeAll
  static void startCluster() throws IOException {
    Path base = Path.of(System.getProperty("sluice.session.root", "target/sluice-sessions"));
    sessionRoot = base.resolve("long-socket-paths-" + "x".repeat(60)).toAbsolutePath();
    SluiceTestSupport.start(
        SluiceConfig.builder().numCpus(2).numWorkers(2).sessionRoot(sessionRoot).build());
  }

  @AfterAll
  static void stopCluster() throws IOException {
    try {
      SluiceTestSupport.stopAndAssertNoWorkers();
      if (socketDir != null) {
        assertThat(socketDir).as("the short socket directory after shutdown").doesNotExist();
      }
    } finally {
      SluiceTestSupport.deleteTree(sessionRoot);
    }
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> all = Files.list(dir)) {
      return all.map(p -> p.getFileName().toString()).toList();
    }
  }

  @Test
  void socketsGoToAShortOwnerOnlyDirectoryAndTaskStreamsAreFramedOnThem() throws IOException {
    Path session = ((EmbeddedCluster) Sluice.runtime()).sessionDir();
    Path link = session.resolve("sockets");
    assertThat(link.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8).length + 30)
        .as("a socket path in the session directory would not fit 107 bytes")
        .isGreaterThan(107);
    assertThat(Files.isSymbolicLink(link)).as("%s links to a short directory", link).isTrue();
    socketDir = Files.readSymbolicLink(link);
    assertThat(socketDir.getParent()).isEqualTo(Path.of("/tmp"));
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(socketDir, LinkOption.NOFOLLOW_LINKS)))
        .isEqualTo("rwx------");
    // the driver's socket, and each worker's gRPC and framed task-stream sockets
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(names(socketDir))
                    .anyMatch(n -> n.startsWith("driver-"))
                    .anyMatch(n -> n.startsWith("worker-") && n.endsWith(".tasks")));

    // on those sockets: tasks and a backpressured stream take the framed task streams
    FramedTaskStreamTest.tasksAndABackpressuredStreamGoFramed(300);
  }
}
