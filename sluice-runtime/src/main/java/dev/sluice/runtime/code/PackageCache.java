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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A node's cache of code packages, {@code <dir>/<sha256>.jar}: a package the node's own class path
 * holds is used from there; any other is downloaded from the head once, verified against its name,
 * and kept for every later job that needs it.
 *
 * <p>Blocking: {@link #resolve} downloads; callers run it off their locks (the node manager uses a
 * virtual thread). Thread-safe: concurrent resolutions of one package share one download (a
 * concurrent map of in-flight downloads); files appear by atomic rename only when verified.
 */
public final class PackageCache {
  private final Path dir;
  private final LocalPackages local;
  private final PackageClient control;
  private final int maxChunkBytes;
  private final ConcurrentHashMap<String, CompletableFuture<Path>> inFlight =
      new ConcurrentHashMap<>();
  private final AtomicLong downloads = new AtomicLong();

  /**
   * A cache in {@code dir} for a node whose own class path is {@code localClassPath}, downloading
   * from the control service through {@code control}.
   */
  public PackageCache(
      Path dir, List<Path> localClassPath, PackageClient control, int maxMessageBytes) {
    this.dir = dir;
    this.local = new LocalPackages(localClassPath, dir.resolve("local"), false);
    this.control = control;
    this.maxChunkBytes = Math.max(4096, maxMessageBytes / 2);
  }

  /** Whether every package of {@code sha256s} is on the node's own class path. */
  public boolean allLocal(List<String> sha256s) throws IOException {
    for (String h : sha256s) {
      if (local.get(h) == null) {
        return false;
      }
    }
    return true;
  }

  /**
   * The class path entries of {@code sha256s}, in order, downloading what the node lacks. Fails
   * with a message naming the first package that cannot be had.
   */
  public List<Path> resolve(List<String> sha256s) throws IOException {
    List<Path> out = new ArrayList<>();
    for (String h : sha256s) {
      out.add(resolve(h));
    }
    return out;
  }

  /** Packages downloaded by this node so far. */
  public long downloads() {
    return downloads.get();
  }

  private Path resolve(String sha256) throws IOException {
    if (!CodePackager.isPackageName(sha256)) {
      throw new IOException("'" + sha256 + "' is not a package name");
    }
    CodePackager.CodePackage own = local.get(sha256);
    if (own != null) {
      return own.source();
    }
    Path cached = dir.resolve(sha256 + ".jar");
    if (Files.isRegularFile(cached)) {
      return cached;
    }
    CompletableFuture<Path> mine = new CompletableFuture<>();
    CompletableFuture<Path> running = inFlight.putIfAbsent(sha256, mine);
    if (running != null) {
      try {
        return running.join();
      } catch (CompletionException e) {
        throw new IOException(e.getCause().getMessage(), e.getCause());
      }
    }
    try {
      Path p = download(sha256, cached);
      mine.complete(p);
      return p;
    } catch (IOException | RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      inFlight.remove(sha256, mine);
    }
  }

  private Path download(String sha256, Path target) throws IOException {
    OwnerOnlyFiles.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "download-", ".part");
    MessageDigest md = CodePackager.newDigest();
    long[] received = {0};
    long[] size = {-1};
    try {
      try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), md)) {
        control.download(
            sha256,
            maxChunkBytes,
            c -> {
              if (size[0] < 0) {
                size[0] = c.getTotalSize();
              }
              c.getData().writeTo(out);
              received[0] += c.getData().size();
            });
      }
      String actual = HexFormat.of().formatHex(md.digest());
      if (received[0] != size[0] || !actual.equals(sha256)) {
        throw new IOException(
            "package "
                + sha256
                + " from the head is corrupt: "
                + received[0]
                + " of "
                + size[0]
                + " bytes hashing to "
                + actual);
      }
      CodePackager.moveInto(tmp, target);
      downloads.incrementAndGet();
      return target;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
