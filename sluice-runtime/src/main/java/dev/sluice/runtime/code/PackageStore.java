package dev.sluice.runtime.code;

import dev.sluice.runtime.common.OwnerOnlyFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The head's code packages: each stored once, as {@code <dir>/<sha256>.jar}, on disk (never held in
 * memory). Packages on the head's own class path count as present without being stored. An upload
 * is written to a temporary file while it is hashed and becomes visible, by an atomic rename, only
 * once its size and SHA-256 match its name.
 *
 * <p>Thread-safe: concurrent uploads of one package write separate temporary files, and the last
 * rename wins with identical bytes; the counters are atomic.
 */
public final class PackageStore {
  private final Path dir;
  private final LocalPackages local;
  private final AtomicLong uploads = new AtomicLong();
  private final AtomicLong downloads = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();

  /** A store in {@code dir} (created) that also serves the packages of {@code localClassPath}. */
  public PackageStore(Path dir, List<Path> localClassPath) throws IOException {
    this.dir = OwnerOnlyFiles.createDirectories(dir);
    this.local = new LocalPackages(localClassPath, dir.resolve("local"), true);
    // Index the head's own class path now, so that the first driver does not wait for it.
    Thread.ofVirtual()
        .name("sluice-package-index")
        .start(
            () -> {
              try {
                local.get("");
              } catch (IOException | RuntimeException e) {
                // retried, and reported, on first use
              }
            });
  }

  /** The names among {@code sha256s} that the store does not have, in their order. */
  public List<String> missing(List<String> sha256s) throws IOException {
    List<String> out = new ArrayList<>();
    for (String h : sha256s) {
      if (find(h) == null) {
        out.add(h);
      }
    }
    return out;
  }

  /** The file holding package {@code sha256}, or null if the store does not have it. */
  public Path find(String sha256) throws IOException {
    if (!CodePackager.isPackageName(sha256)) {
      return null;
    }
    Path stored = dir.resolve(sha256 + ".jar");
    if (Files.isRegularFile(stored)) {
      return stored;
    }
    CodePackager.CodePackage p = local.get(sha256);
    return p == null ? null : p.file();
  }

  /** Starts receiving package {@code sha256} of {@code size} bytes. */
  public Upload begin(String sha256, long size) throws IOException {
    if (!CodePackager.isPackageName(sha256)) {
      rejected.incrementAndGet();
      throw new IllegalArgumentException(
          "'" + sha256 + "' is not a package name (the lower-case" + " hex SHA-256 of its bytes)");
    }
    return new Upload(sha256, size, Files.createTempFile(dir, "upload-", ".part"));
  }

  /** Counts one completed download. */
  public void countDownload() {
    downloads.incrementAndGet();
  }

  /** Packages stored by uploads so far. */
  public long uploads() {
    return uploads.get();
  }

  /** Downloads completed so far. */
  public long downloads() {
    return downloads.get();
  }

  /** Uploads rejected so far (bytes not matching the name or size). */
  public long rejectedUploads() {
    return rejected.get();
  }

  /** One package being received. Not thread-safe: one upload stream feeds it, in order. */
  public final class Upload {
    private final String sha256;
    private final long size;
    private final Path tmp;
    private final MessageDigest md = CodePackager.newDigest();
    private final OutputStream out;
    private long received;
    private boolean closed;

    private Upload(String sha256, long size, Path tmp) throws IOException {
      this.sha256 = sha256;
      this.size = size;
      this.tmp = tmp;
      this.out = new DigestOutputStream(Files.newOutputStream(tmp), md);
    }

    /** Appends bytes; fails if they go beyond the announced size. */
    public void write(byte[] data) throws IOException {
      received += data.length;
      if (received > size) {
        abort();
        rejected.incrementAndGet();
        throw new IllegalArgumentException(
            "package " + sha256 + " is larger than its announced " + size + " bytes");
      }
      out.write(data);
    }

    /**
     * Verifies the bytes and stores the package; fails, storing nothing, if their size or hash does
     * not match.
     */
    public void finish() throws IOException {
      closeQuietly();
      String actual = HexFormat.of().formatHex(md.digest());
      if (received != size || !actual.equals(sha256)) {
        Files.deleteIfExists(tmp);
        rejected.incrementAndGet();
        throw new IllegalArgumentException(
            "package "
                + sha256
                + " rejected: received "
                + received
                + " of "
                + size
                + " bytes hashing to "
                + actual);
      }
      CodePackager.moveInto(tmp, dir.resolve(sha256 + ".jar"));
      uploads.incrementAndGet();
    }

    /** Drops what was received. */
    public void abort() {
      closeQuietly();
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // a leftover .part file is harmless: it never counts as a package
      }
    }

    private void closeQuietly() {
      if (!closed) {
        closed = true;
        try {
          out.close();
        } catch (IOException ignored) {
          // the size and hash check decides whether what was written is usable
        }
      }
    }
  }
}
