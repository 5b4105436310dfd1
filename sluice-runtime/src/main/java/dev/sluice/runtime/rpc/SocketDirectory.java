package dev.sluice.runtime.rpc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the Unix domain sockets of a node's processes live (DESIGN "Same-node transport"), and that
 * directory's lifetime.
 *
 * <p>The sockets go to {@code sockets/} of the node's session directory when a socket path there
 * fits the kernel's limit. When it does not (a session directory deep in a build tree, or under a
 * long {@code $TMPDIR} as on macOS), they go to a short private directory {@code
 * /tmp/sluice-sock-<pid>-<random>} instead, as Ray places its sockets on macOS: made with a random
 * name, owner-only ({@code rwx------}), and linked from {@code sockets} in the session directory,
 * so every process of the node finds it from the session directory alone ({@link #find}). Both
 * kinds get the same protection: a directory only the owning user can enter, owner-only socket
 * files, and the cluster token checked on every call.
 *
 * <p>The node manager opens the directory before it starts any process ({@link #open}) and closes
 * it when it stops; closing removes a short directory and its link. A short directory of a node
 * that was killed is removed by its workers as they exit ({@link #orphanRemover}), by whoever saw
 * it die ({@link #removeOf}: the CLI's {@code stop}, a {@code LocalCluster}), else by the next node
 * that opens one on this machine (those whose creating process is gone). Only when even a short
 * directory cannot be made do the node's processes talk over TCP.
 *
 * <p>Thread-safe: the static methods hold no state, and {@link #close} runs once.
 */
public final class SocketDirectory implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SocketDirectory.class);

  /** Name of the socket directory (or of the link to it) inside the session directory. */
  static final String DIRECTORY = "sockets";

  /** Where short socket directories are made. */
  public static final Path SHORT_ROOT = Path.of("/tmp");

  /** Prefix of a short socket directory's name, before its creator's pid. */
  public static final String SHORT_PREFIX = "sluice-sock-";

  /**
   * Bytes kept free for a socket's file name ({@code driver-<pid>-<n>.tasks}): a directory leaves
   * room for them or its sockets go elsewhere.
   */
  static final int NAME_RESERVE = 32;

  private static final Pattern SHORT_NAME =
      Pattern.compile(Pattern.quote(SHORT_PREFIX) + "(\\d+)-\\d+");

  private static final Set<PosixFilePermission> OWNER_ONLY_DIR =
      EnumSet.of(
          PosixFilePermission.OWNER_READ,
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_EXECUTE);

  private final Path dir;
  private final Path link;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * {@code dir}: where sockets go, null for none; {@code link}: the link to a short one, or null.
   */
  private SocketDirectory(Path dir, Path link) {
    this.dir = dir;
    this.link = link;
  }

  /** No socket directory: the node's processes talk over TCP. */
  public static SocketDirectory none() {
    return new SocketDirectory(null, null);
  }

  /**
   * Opens the socket directory of the node whose session directory is {@code sessionDir}: its
   * {@code sockets/} if socket paths there fit, else a new short directory under {@code /tmp} that
   * {@code sockets} links to; {@link #none()} if Unix sockets are not available here or no
   * directory could be made (logged).
   */
  public static SocketDirectory open(Path sessionDir) {
    return open(sessionDir, SHORT_ROOT);
  }

  /** As {@link #open(Path)}, making a short directory under {@code shortRoot}. */
  static SocketDirectory open(Path sessionDir, Path shortRoot) {
    if (!LocalSockets.available()) {
      return none();
    }
    Path inSession = sessionDir.resolve(DIRECTORY).toAbsolutePath();
    if (roomForNames(inSession)) {
      try {
        return new SocketDirectory(find(sessionDir), null);
      } catch (IOException e) {
        log.warn(
            "no Unix socket directory in {}, processes of this node talk over TCP: {}",
            sessionDir,
            e.toString());
        return none();
      }
    }
    Path shortDir = null;
    try {
      removeAbandoned(shortRoot, Files.getOwner(sessionDir));
      shortDir =
          Files.createTempDirectory(
                  shortRoot,
                  SHORT_PREFIX + ProcessHandle.current().pid() + "-",
                  PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR))
              .toAbsolutePath();
      checkOwnerOnly(shortDir, Files.getOwner(sessionDir));
      if (!roomForNames(shortDir)) {
        throw new IOException(shortDir + " leaves no room for socket names");
      }
      if (Files.isSymbolicLink(inSession)) {
        Files.delete(inSession); // left by an earlier node of this session directory
      }
      Files.createSymbolicLink(inSession, shortDir);
      log.info(
          "socket paths in {} would pass the kernel's {} bytes: this node's Unix sockets are in {}",
          inSession,
          LocalSockets.MAX_PATH_BYTES,
          shortDir);
      return new SocketDirectory(shortDir, inSession);
    } catch (IOException | RuntimeException e) {
      if (shortDir != null) {
        deleteRecursively(shortDir);
      }
      log.warn(
          "socket paths in {} would pass the kernel's {} bytes and no short socket directory could"
              + " be made under {}, processes of this node talk over TCP: {}",
          inSession,
          LocalSockets.MAX_PATH_BYTES,
          shortRoot,
          e.toString());
      return none();
    }
  }

  /** The directory the node's sockets go to; empty: none, its processes talk over TCP. */
  public Optional<Path> path() {
    return Optional.ofNullable(dir);
  }

  /** Removes a short socket directory (with any socket left in it) and its link; else nothing. */
  @Override
  public void close() {
    if (link == null || !closed.compareAndSet(false, true)) {
      return;
    }
    removeLink(link, dir);
  }

  /**
   * The socket directory of the node whose session directory is {@code sessionDir}, for a process
   * of that node to put its socket in: the short directory {@code sockets} links to, checked, else
   * {@code sockets/} itself, created owner-only if missing.
   *
   * @throws IOException if the directory cannot be made, or is not one only this user can enter
   */
  static Path find(Path sessionDir) throws IOException {
    Path inSession = sessionDir.resolve(DIRECTORY);
    if (Files.isSymbolicLink(inSession)) {
      Path target = Files.readSymbolicLink(inSession);
      if (!target.isAbsolute()) {
        throw new IOException("socket directory link " + inSession + " is not absolute");
      }
      checkOwnerOnly(target, Files.getOwner(sessionDir));
      return target;
    }
    try {
      Files.createDirectory(inSession, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
    } catch (FileAlreadyExistsException e) {
      // made by another process of the node: it must be a directory only we can enter
    }
    checkOwnerOnly(inSession, null);
    return inSession;
  }

  /**
   * Where the sockets of the node whose session directory is {@code sessionDir} are, without
   * checking or making anything: the target of the {@code sockets} link, else {@code sockets/}.
   */
  static Path located(Path sessionDir) {
    Path inSession = sessionDir.resolve(DIRECTORY);
    try {
      return Files.isSymbolicLink(inSession) ? Files.readSymbolicLink(inSession) : inSession;
    } catch (IOException e) {
      return inSession;
    }
  }

  /**
   * Removes the short socket directory of a node that is gone (its daemon exited or was killed),
   * and its link in {@code sessionDir}; a directory that is not a short socket directory of this
   * user is left alone.
   */
  public static void removeOf(Path sessionDir) {
    Path inSession = sessionDir.resolve(DIRECTORY);
    if (!Files.isSymbolicLink(inSession)) {
      return;
    }
    try {
      removeLink(inSession, Files.readSymbolicLink(inSession));
    } catch (IOException e) {
      log.debug("cannot read socket directory link {}: {}", inSession, e.toString());
    }
  }

  /**
   * What removes the short socket directory of the node whose session directory is {@code
   * sessionDir}, and its link, when run: for a worker to run as it exits because its node manager
   * is gone (a node manager killed outright cannot remove it), as it removes the node's store file.
   * Nothing if the node's sockets are in the session directory. Prepared up front so that running
   * it is quick; the run never throws or logs.
   */
  public static Runnable orphanRemover(Path sessionDir) {
    Path link = sessionDir.resolve(DIRECTORY);
    Path target;
    try {
      target = Files.isSymbolicLink(link) ? Files.readSymbolicLink(link) : null;
    } catch (IOException e) {
      target = null;
    }
    if (target == null || !isShortDirectory(target)) {
      return () -> {};
    }
    Path dir = target;
    return () -> {
      try {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
          for (Path f : files) {
            Files.deleteIfExists(f);
          }
        }
        Files.deleteIfExists(dir);
        Files.deleteIfExists(link);
      } catch (IOException | RuntimeException e) {
        // the process is exiting; the node's launcher or the next node removes what is left
      }
    };
  }

  /** True if a socket name of up to {@link #NAME_RESERVE} bytes in {@code dir} fits the kernel. */
  static boolean roomForNames(Path dir) {
    return dir.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8).length
            + 1
            + NAME_RESERVE
        <= LocalSockets.MAX_PATH_BYTES;
  }

  /** Removes {@code link} and the short socket directory {@code target} it points to. */
  private static void removeLink(Path link, Path target) {
    try {
      if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(target)) {
        Files.delete(link);
      }
    } catch (IOException e) {
      log.debug("cannot remove socket directory link {}: {}", link, e.toString());
    }
    if (isShortDirectory(target)) {
      deleteRecursively(target);
    }
  }

  /** True if {@code dir} is named as a short socket directory and is a real directory. */
  private static boolean isShortDirectory(Path dir) {
    return dir.isAbsolute()
        && dir.getFileName() != null
        && SHORT_NAME.matcher(dir.getFileName().toString()).matches()
        && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Removes the short socket directories under {@code shortRoot} of {@code owner} whose creating
   * process is gone (a node that was killed).
   */
  private static void removeAbandoned(Path shortRoot, UserPrincipal owner) {
    try (DirectoryStream<Path> all = Files.newDirectoryStream(shortRoot, SHORT_PREFIX + "*")) {
      for (Path d : all) {
        Matcher m = SHORT_NAME.matcher(d.getFileName().toString());
        if (m.matches()
            && Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)
            && owner.equals(Files.getOwner(d, LinkOption.NOFOLLOW_LINKS))
            && ProcessHandle.of(Long.parseLong(m.group(1)))
                .filter(ProcessHandle::isAlive)
                .isEmpty()) {
          log.info("removing the socket directory {} of a node that is gone", d);
          deleteRecursively(d);
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("cannot look for abandoned socket directories in {}: {}", shortRoot, e.toString());
    }
  }

  /**
   * Checks that {@code dir} is a directory (not a link) only its owner can enter, owned by {@code
   * owner} if given.
   */
  private static void checkOwnerOnly(Path dir, UserPrincipal owner) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
        || !Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(OWNER_ONLY_DIR)
        || (owner != null && !owner.equals(Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS)))) {
      throw new IOException(
          "socket directory "
              + dir
              + " is not a directory of this user with permissions rwx------");
    }
  }

  /** Deletes {@code dir} and what is in it (socket files), without following links. */
  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      List<Path> paths = all.sorted(Comparator.reverseOrder()).toList();
      for (Path p : paths) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | RuntimeException e) {
      log.warn("cannot remove socket directory {}: {}", dir, e.toString());
    }
  }
}
