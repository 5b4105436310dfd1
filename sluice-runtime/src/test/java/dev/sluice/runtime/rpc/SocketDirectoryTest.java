package dev.sluice.runtime.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.grpc.BindableService;
import io.grpc.Server;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rule checked (DESIGN "Same-node transport"): a node whose session directory is too deep for a
 * socket path ({@value LocalSockets#MAX_PATH_BYTES} bytes) still serves Unix sockets, from a short
 * owner-only directory under {@code /tmp} linked from the session directory, which every process of
 * the node finds and which is removed when the node stops (or, if the node was killed, by who saw
 * it die or by the next node); only when no short directory can be made is it TCP, and a linked
 * directory others can enter is refused.
 */
@Timeout(60)
class SocketDirectoryTest {
  @TempDir Path root;

  private final RpcFactory rpc =
      new RpcFactory(4 << 20, RpcSecurity.token(RpcSecurity.generateToken()));

  @BeforeEach
  void needsEpoll() {
    assumeThat(LocalSockets.available()).as("epoll transport (Linux)").isTrue();
  }

  /** A session directory whose {@code sockets/} leaves no room for a socket name. */
  private Path longSessionDir() throws Exception {
    Path dir = Files.createDirectories(root.resolve("s".repeat(90)));
    assertThat(SocketDirectory.roomForNames(dir.resolve(SocketDirectory.DIRECTORY))).isFalse();
    return dir;
  }

  private static int bytes(Path p) {
    return p.toString().getBytes(StandardCharsets.UTF_8).length;
  }

  @Test
  void aLongSessionDirectoryGetsAShortOwnerOnlySocketDirectoryRemovedAtShutdown() throws Exception {
    Path session = longSessionDir();

    Path shortDir;
    try (SocketDirectory sockets = SocketDirectory.open(session)) {
      shortDir = sockets.path().orElseThrow();
      assertThat(shortDir.getParent()).isEqualTo(SocketDirectory.SHORT_ROOT);
      assertThat(shortDir.getFileName().toString())
          .startsWith(SocketDirectory.SHORT_PREFIX + ProcessHandle.current().pid() + "-");
      assertThat(
              PosixFilePermissions.toString(
                  Files.getPosixFilePermissions(shortDir, LinkOption.NOFOLLOW_LINKS)))
          .isEqualTo("rwx------");
      assertThat(Files.readSymbolicLink(session.resolve(SocketDirectory.DIRECTORY)))
          .isEqualTo(shortDir);

      // a process of the node (a worker) finds it from the session directory and serves there
      Path socket = LocalSockets.newSocketPath(session, "worker").orElseThrow();
      assertThat(socket.getParent()).isEqualTo(shortDir);
      assertThat(LocalSockets.framedPath(socket)).isPresent();
      assertThat(bytes(LocalSockets.framedPath(socket).orElseThrow()))
          .isLessThanOrEqualTo(LocalSockets.MAX_PATH_BYTES);
      Server server = rpc.startDomainSocketServer(socket, List.<BindableService>of());
      try {
        assertThat(Files.exists(socket, LinkOption.NOFOLLOW_LINKS)).isTrue();
      } finally {
        RpcFactory.shutdownQuietly(server);
      }
      Files.createFile(shortDir.resolve("worker-1-1")); // left by a killed worker
    }

    assertThat(shortDir).doesNotExist();
    assertThat(Files.exists(session.resolve(SocketDirectory.DIRECTORY), LinkOption.NOFOLLOW_LINKS))
        .isFalse();
  }

  @Test
  void aShortSessionDirectoryKeepsItsSocketsInside() throws Exception {
    try (SocketDirectory sockets = SocketDirectory.open(root)) {
      assertThat(sockets.path()).contains(root.resolve(SocketDirectory.DIRECTORY));
      assertThat(LocalSockets.newSocketPath(root, "worker").orElseThrow().getParent())
          .isEqualTo(root.resolve(SocketDirectory.DIRECTORY));
    }
    assertThat(Files.isSymbolicLink(root.resolve(SocketDirectory.DIRECTORY))).isFalse();
  }

  @Test
  void withoutAUsableShortRootTheNodeTakesTcp() throws Exception {
    Path session = longSessionDir();
    Path missing = root.resolve("no-such-root");
    Path deep = Files.createDirectories(root.resolve("r".repeat(100)));

    try (SocketDirectory a = SocketDirectory.open(session, missing);
        SocketDirectory b = SocketDirectory.open(session, deep)) {
      assertThat(a.path()).isEmpty();
      assertThat(b.path()).isEmpty();
    }
    assertThat(LocalSockets.newSocketPath(session, "worker")).isEmpty();
    try (var left = Files.list(deep)) {
      assertThat(left).as("half-made short directories").isEmpty();
    }
  }

  @Test
  void aLinkToADirectoryOthersCanEnterIsRefused() throws Exception {
    Path session = longSessionDir();
    Path open =
        Files.createDirectory(
            root.resolve("open"),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxrwxrwx")));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
    Files.createSymbolicLink(session.resolve(SocketDirectory.DIRECTORY), open);

    assertThatThrownBy(() -> LocalSockets.newSocketPath(session, "worker"))
        .hasMessageContaining("rwx------");
  }

  @Test
  void aKilledNodesShortDirectoryIsRemovedByItsWorkersByWhoSawItDieOrByTheNextNode()
      throws Exception {
    // orphanRemover: a worker exiting because its node manager is gone removes it
    Path killed = longSessionDir();
    Path shortDir = SocketDirectory.open(killed, root).path().orElseThrow();
    Files.createFile(shortDir.resolve("worker-1-1"));
    Runnable workerExit = SocketDirectory.orphanRemover(killed);
    workerExit.run();
    assertThat(shortDir).doesNotExist();
    assertThat(Files.exists(killed.resolve(SocketDirectory.DIRECTORY), LinkOption.NOFOLLOW_LINKS))
        .isFalse();
    // ... but never the sockets/ of a short session directory
    Files.createDirectory(root.resolve("short"));
    SocketDirectory.open(root.resolve("short"), root).close();
    SocketDirectory.orphanRemover(root.resolve("short")).run();
    assertThat(root.resolve("short").resolve(SocketDirectory.DIRECTORY)).isDirectory();

    // removeOf: the launcher of a killed node removes its directory and link
    shortDir = SocketDirectory.open(killed, root).path().orElseThrow();
    SocketDirectory.removeOf(killed);
    assertThat(shortDir).doesNotExist();
    assertThat(Files.exists(killed.resolve(SocketDirectory.DIRECTORY), LinkOption.NOFOLLOW_LINKS))
        .isFalse();

    // the next node removes the directories of creators that are gone, not of live ones
    Process gone = new ProcessBuilder("true").start();
    assertThat(gone.waitFor(30, TimeUnit.SECONDS)).isTrue();
    Path abandoned =
        Files.createDirectory(root.resolve(SocketDirectory.SHORT_PREFIX + gone.pid() + "-1"));
    Files.createFile(abandoned.resolve("worker-1-1"));
    Path live =
        Files.createDirectory(
            root.resolve(SocketDirectory.SHORT_PREFIX + ProcessHandle.current().pid() + "-1"));
    Path other = Files.createDirectory(root.resolve(SocketDirectory.SHORT_PREFIX + "notes"));

    try (SocketDirectory next = SocketDirectory.open(longSessionDirNamed("next"), root)) {
      assertThat(next.path()).isPresent();
      assertThat(abandoned).doesNotExist();
      assertThat(live).exists();
      assertThat(other).exists();
    }
  }

  private Path longSessionDirNamed(String name) throws Exception {
    return Files.createDirectories(root.resolve(name).resolve("s".repeat(90)));
  }
}
