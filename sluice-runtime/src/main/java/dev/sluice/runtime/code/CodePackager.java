package dev.sluice.runtime.code;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Turns a class path into code packages: each jar as it is, each class directory packed into a
 * deterministic jar (entries sorted, stored uncompressed, one fixed time stamp), so that the same
 * directory content always gives the same bytes. A package is named by the SHA-256 of its bytes.
 * Entries of the JDK itself and entries that do not exist are left out.
 *
 * <p>Thread-safe: the only shared state is a cache of jar hashes keyed by path, size and
 * modification time (a concurrent map), so a driver that connects again hashes nothing twice.
 */
public final class CodePackager {
  /** Time stamp of every entry of a packed directory (local time, so no time zone enters). */
  private static final LocalDateTime ENTRY_TIME = LocalDateTime.of(2000, 1, 1, 0, 0);

  private static final Map<String, String> JAR_HASHES = new ConcurrentHashMap<>();

  private CodePackager() {}

  /**
   * One package of a class path.
   *
   * @param sha256 lower-case hex SHA-256 of {@code file}'s bytes
   * @param source the class path entry (a jar or a directory)
   * @param file the package's bytes: {@code source} for a jar, a packed jar for a directory
   * @param packed whether {@code file} is a temporary packed jar (its owner deletes it)
   */
  public record CodePackage(String sha256, Path source, Path file, boolean packed) {
    /** The package's size in bytes. */
    public long size() throws IOException {
      return Files.size(file);
    }
  }

  /**
   * The packages of {@code classPath}, in its order; directories are packed into {@code workDir}
   * (created if needed). A package that occurs twice is listed once.
   */
  public static List<CodePackage> packages(List<Path> classPath, Path workDir) throws IOException {
    List<CodePackage> out = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Path entry : classPath) {
      if (isJdk(entry) || !Files.exists(entry)) {
        continue;
      }
      CodePackage p;
      if (Files.isDirectory(entry)) {
        Files.createDirectories(workDir);
        Path tmp = Files.createTempFile(workDir, "packed-", ".jar");
        String hash = packDirectory(entry, tmp);
        p = new CodePackage(hash, entry, tmp, true);
      } else {
        p = new CodePackage(jarHash(entry), entry, entry, false);
      }
      if (seen.add(p.sha256())) {
        out.add(p);
      } else if (p.packed()) {
        Files.deleteIfExists(p.file());
      }
    }
    return out;
  }

  /** Deletes the packed jars among {@code packages}. */
  public static void deletePacked(List<CodePackage> packages) {
    for (CodePackage p : packages) {
      if (p.packed()) {
        try {
          Files.deleteIfExists(p.file());
        } catch (IOException ignored) {
          // a temporary file; the session directory's cleanup takes it otherwise
        }
      }
    }
  }

  /** Whether {@code entry} belongs to the running JDK (never shipped: every node has its own). */
  static boolean isJdk(Path entry) {
    Path home = Path.of(System.getProperty("java.home")).toAbsolutePath().normalize();
    return entry.toAbsolutePath().normalize().startsWith(home);
  }

  private static String jarHash(Path jar) throws IOException {
    String key =
        jar.toAbsolutePath()
            + "|"
            + Files.size(jar)
            + "|"
            + Files.getLastModifiedTime(jar).toMillis();
    String cached = JAR_HASHES.get(key);
    if (cached != null) {
      return cached;
    }
    String hash = sha256(jar);
    JAR_HASHES.put(key, hash);
    return hash;
  }

  /** The lower-case hex SHA-256 of a file's bytes. */
  public static String sha256(Path file) throws IOException {
    MessageDigest md = newDigest();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** A fresh SHA-256 digest. */
  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** Whether {@code s} looks like a package name (64 lower-case hex digits). */
  public static boolean isPackageName(String s) {
    return s.length() == 64
        && s.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }

  /** Packs directory {@code dir} into the jar {@code target}; returns the jar's SHA-256. */
  static String packDirectory(Path dir, Path target) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files =
          walk.filter(p -> !p.equals(dir))
              .sorted((a, b) -> entryName(dir, a).compareTo(entryName(dir, b)))
              .toList();
    }
    MessageDigest md = newDigest();
    try (OutputStream raw = Files.newOutputStream(target);
        ZipOutputStream zip = new ZipOutputStream(new DigestOutputStream(raw, md))) {
      for (Path f : files) {
        boolean directory = Files.isDirectory(f);
        byte[] data = directory ? new byte[0] : Files.readAllBytes(f);
        ZipEntry e = new ZipEntry(entryName(dir, f) + (directory ? "/" : ""));
        e.setTimeLocal(ENTRY_TIME);
        e.setMethod(ZipEntry.STORED);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static String entryName(Path dir, Path f) {
    return dir.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
  }

  /** Moves {@code from} to {@code to}, atomically where the file system allows. */
  static void moveInto(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (java.nio.file.AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
