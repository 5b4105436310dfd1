package dev.sluice.runtime.common;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session directories under a session root, as Ray keeps them under {@code /tmp/ray}: each
 * {@code init} of an embedded driver, each {@code sluice start} and each {@code LocalCluster} gets
 * one ({@code <prefix>_<yyyy-MM-dd_HH-mm-ss_SSS>_<pid>}, with a {@code logs/} folder), {@code
 * session_latest} links to the newest {@code session_*} one, and creating one removes the older
 * ones that no live process uses beyond the newest {@value #DEFAULT_KEEP} ({@code
 * -Dsluice.session.keep=N} changes it).
 *
 * <p>A process that uses a session directory marks it ({@link #markOwner}: its pid and start time
 * in {@code owner.pid}); a directory is in use while the process named in an {@code owner.pid} in
 * it, or in one of its direct subdirectories (the nodes of a {@code LocalCluster}), is alive. The
 * directory being created is never removed, even before its daemon has marked it.
 *
 * <p>Thread-safe and safe across processes: removals that race with another process's are ignored.
 */
public final class SessionDirectories {
  private static final Logger log = LoggerFactory.getLogger(SessionDirectories.class);

  /** The link to the newest {@code session_*} directory. */
  public static final String LATEST = "session_latest";

  /** The prefix of drivers' and daemons' session directories. */
  public static final String SESSION_PREFIX = "session";

  /** The prefix of {@code LocalCluster} directories (pruned, never linked). */
  public static final String LOCAL_CLUSTER_PREFIX = "local-cluster";

  /** The system property with how many unused session directories are kept. */
  public static final String KEEP_PROPERTY = "sluice.session.keep";

  /** How many unused session directories are kept by default. */
  public static final int DEFAULT_KEEP = 5;

  static final String OWNER_FILE = "owner.pid";

  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd_HH-mm-ss_SSS");

  private SessionDirectories() {}

  /** The name a session directory created now by this process would have. */
  public static String plannedName(String prefix) {
    return prefix + "_" + LocalDateTime.now().format(STAMP) + "_" + ProcessHandle.current().pid();
  }

  /**
   * Creates a session directory {@code <root>/<prefix>_<stamp>_<pid>} (with a numeric suffix if the
   * name is taken) and its {@code logs/}, marks it as this process's if {@code owned}, links {@code
   * session_latest} to it (for {@code session} directories) and removes old unused ones.
   */
  public static Path create(Path root, String prefix, boolean owned) throws IOException {
    OwnerOnlyFiles.createDirectories(root);
    Path base = root.resolve(plannedName(prefix));
    Path dir = base;
    for (int i = 2; ; i++) {
      try {
        OwnerOnlyFiles.createDirectory(dir);
        break;
      } catch (FileAlreadyExistsException e) {
        dir = base.resolveSibling(base.getFileName() + "_" + i);
      }
    }
    OwnerOnlyFiles.createDirectories(dir.resolve("logs"));
    if (owned) {
      markOwner(dir);
    }
    if (SESSION_PREFIX.equals(prefix)) {
      linkLatest(root, dir);
    }
    prune(root, keep(), dir);
    return dir;
  }

  /** Marks {@code dir} as used by this process for as long as it lives. */
  public static void markOwner(Path dir) throws IOException {
    ProcessHandle self = ProcessHandle.current();
    long start = self.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
    Path tmp = dir.resolve(OWNER_FILE + ".tmp-" + self.pid());
    try (OutputStream out = OwnerOnlyFiles.newOutputStream(tmp)) {
      out.write((self.pid() + " " + start + "\n").getBytes(StandardCharsets.US_ASCII));
    }
    Files.move(tmp, dir.resolve(OWNER_FILE), StandardCopyOption.REPLACE_EXISTING);
  }

  /** Points {@code <root>/session_latest} at {@code dir} (a relative link, replaced atomically). */
  static void linkLatest(Path root, Path dir) {
    Path link = root.resolve(LATEST);
    Path tmp = root.resolve(LATEST + ".tmp-" + ProcessHandle.current().pid());
    try {
      Files.deleteIfExists(tmp);
      Files.createSymbolicLink(tmp, dir.getFileName());
      Files.move(tmp, link, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | UnsupportedOperationException e) {
      log.debug("cannot link {} to {}: {}", link, dir, e.toString());
    }
  }

  /**
   * Removes the session directories under {@code root} that no live process uses, except the newest
   * {@code keep} of them and {@code spare}; returns those removed.
   */
  static List<Path> prune(Path root, int keep, Path spare) {
    List<Path> sessions;
    try (Stream<Path> all = Files.list(root)) {
      sessions =
          all.filter(p -> stampOf(p).isPresent())
              .filter(p -> Files.isDirectory(p) && !Files.isSymbolicLink(p))
              .sorted(Comparator.comparing((Path p) -> stampOf(p).orElseThrow()).reversed())
              .toList();
    } catch (IOException e) {
      log.debug("cannot list session root {}: {}", root, e.toString());
      return List.of();
    }
    List<Path> removed = new ArrayList<>();
    int kept = 0;
    for (Path s : sessions) {
      if (s.equals(spare) || inUse(s)) {
        continue;
      }
      if (kept < keep) {
        kept++;
        continue;
      }
      if (deleteRecursively(s)) {
        removed.add(s);
      }
    }
    if (!removed.isEmpty()) {
      log.info("removed {} old session directories under {}", removed.size(), root);
    }
    return removed;
  }

  /** The creation stamp in a session directory's name (sortable), or empty if it is not one. */
  static Optional<String> stampOf(Path dir) {
    String name = dir.getFileName().toString();
    for (String prefix : List.of(SESSION_PREFIX + "_", LOCAL_CLUSTER_PREFIX + "_")) {
      if (name.startsWith(prefix) && !name.equals(LATEST)) {
        String rest = name.substring(prefix.length());
        return rest.length() >= 23 && Character.isDigit(rest.charAt(0))
            ? Optional.of(rest)
            : Optional.empty();
      }
    }
    return Optional.empty();
  }

  /** Whether a live process marked {@code dir}, or one of its direct subdirectories, as its own. */
  static boolean inUse(Path dir) {
    if (ownerAlive(dir.resolve(OWNER_FILE))) {
      return true;
    }
    try (Stream<Path> children = Files.list(dir)) {
      return children.anyMatch(c -> Files.isDirectory(c) && ownerAlive(c.resolve(OWNER_FILE)));
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean ownerAlive(Path ownerFile) {
    String[] parts;
    try {
      parts = Files.readString(ownerFile, StandardCharsets.US_ASCII).trim().split(" ");
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      return true; // unreadable: assume in use
    }
    try {
      long pid = Long.parseLong(parts[0]);
      long start = parts.length > 1 ? Long.parseLong(parts[1]) : -1;
      Optional<ProcessHandle> p = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
      if (p.isEmpty()) {
        return false;
      }
      Optional<Instant> actual = p.get().info().startInstant();
      // A pid reused by a later process is not the owner (start times agree to the second).
      return start < 0 || actual.isEmpty() || Math.abs(actual.get().toEpochMilli() - start) < 1000;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static int keep() {
    try {
      return Math.max(0, Integer.parseInt(System.getProperty(KEEP_PROPERTY, "" + DEFAULT_KEEP)));
    } catch (NumberFormatException e) {
      return DEFAULT_KEEP;
    }
  }

  private static boolean deleteRecursively(Path dir) {
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
      return true;
    } catch (IOException e) {
      log.debug("cannot remove old session directory {}: {}", dir, e.toString());
      return false;
    }
  }
}
