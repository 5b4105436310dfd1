package dev.sluice.runtime.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rule "session directories do not pile up" (issue 15, part 4): creating one keeps the newest 5
 * that no live process uses, never removes one whose owner (or one of whose nodes) is alive, leaves
 * other folders of the root alone, and points {@code session_latest} at the new one.
 */
class SessionDirectoriesTest {
  private static Path old(Path root, String prefix, int i) throws IOException {
    Path d = root.resolve(String.format("%s_2020-01-01_00-00-00_%03d_4242", prefix, i));
    Files.createDirectories(d.resolve("logs"));
    Files.writeString(d.resolve("logs").resolve("node.log"), "old\n");
    return d;
  }

  private static List<String> names(Path root) throws IOException {
    try (Stream<Path> all = Files.list(root)) {
      return all.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void creatingASessionKeepsTheNewestUnusedOnesAndThoseInUseAndLinksTheLatest(@TempDir Path root)
      throws IOException, InterruptedException {
    List<Path> unused = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      unused.add(old(root, i % 2 == 0 ? "session" : "local-cluster", 10 + i));
    }
    // The oldest of all, but its owner (this JVM) is alive.
    Path inUse = old(root, "session", 1);
    SessionDirectories.markOwner(inUse);
    // A local cluster whose node daemon (here: this JVM) is alive.
    Path clusterInUse = old(root, "local-cluster", 2);
    Files.createDirectories(clusterInUse.resolve("node-0"));
    SessionDirectories.markOwner(clusterInUse.resolve("node-0"));
    // Owned by a process that has exited.
    Process gone = new ProcessBuilder("true").start();
    assertThat(gone.waitFor(30, TimeUnit.SECONDS)).isTrue();
    Path deadOwner = old(root, "session", 3);
    Files.writeString(
        deadOwner.resolve("owner.pid"), gone.pid() + " -1\n", StandardCharsets.US_ASCII);
    Files.createDirectories(root.resolve("cache").resolve("worker-aot"));
    Files.createDirectories(root.resolve("daemons"));

    Path created = SessionDirectories.create(root, SessionDirectories.SESSION_PREFIX, true);

    assertThat(created.getFileName().toString()).startsWith("session_");
    assertThat(created.resolve("logs")).isDirectory();
    List<String> expected = new ArrayList<>();
    for (Path p : unused.subList(3, 8)) {
      expected.add(p.getFileName().toString());
    }
    expected.addAll(
        List.of(
            inUse.getFileName().toString(),
            clusterInUse.getFileName().toString(),
            created.getFileName().toString(),
            "cache",
            "daemons",
            SessionDirectories.LATEST));
    assertThat(names(root)).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(Files.isSymbolicLink(root.resolve(SessionDirectories.LATEST))).isTrue();
    assertThat(root.resolve(SessionDirectories.LATEST).toRealPath())
        .isEqualTo(created.toRealPath());

    Path next = SessionDirectories.create(root, SessionDirectories.SESSION_PREFIX, false);
    assertThat(root.resolve(SessionDirectories.LATEST).toRealPath()).isEqualTo(next.toRealPath());
    assertThat(created).as("in use by this JVM").isDirectory();
    assertThat(next).isDirectory();
    assertThat(unused.get(3))
        .as("a new session its daemon has not marked yet counts as in use")
        .isDirectory();
  }
}
