package dev.sluice.runtime.code;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The packages a process already has on its own class path, by SHA-256: what a head need not be
 * sent and a node need not download. Computed once, on first use, on the calling thread (hashing a
 * class path of tens of megabytes takes a fraction of a second).
 *
 * <p>Thread-safe: the index is published through a {@link CompletableFuture} created under {@code
 * this}; later callers wait for the first computation.
 */
final class LocalPackages {
  private final List<Path> classPath;
  private final Path workDir;
  private final boolean keepPacked;

  @GuardedBy("this")
  private CompletableFuture<Map<String, CodePackager.CodePackage>> index;

  /**
   * An index of {@code classPath}; directories are packed into {@code workDir}, and those packed
   * jars are kept (to serve them) if {@code keepPacked}, else deleted at once.
   */
  LocalPackages(List<Path> classPath, Path workDir, boolean keepPacked) {
    this.classPath = List.copyOf(classPath);
    this.workDir = workDir;
    this.keepPacked = keepPacked;
  }

  /** The package named {@code sha256} on the local class path, or null. */
  CodePackager.CodePackage get(String sha256) throws IOException {
    try {
      return index().join().get(sha256);
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      throw e;
    }
  }

  private CompletableFuture<Map<String, CodePackager.CodePackage>> index() {
    CompletableFuture<Map<String, CodePackager.CodePackage>> f;
    boolean compute = false;
    synchronized (this) {
      if (index == null || index.isCompletedExceptionally()) {
        index = new CompletableFuture<>();
        compute = true;
      }
      f = index;
    }
    if (compute) {
      try {
        List<CodePackager.CodePackage> all = CodePackager.packages(classPath, workDir);
        Map<String, CodePackager.CodePackage> m = new HashMap<>();
        for (CodePackager.CodePackage p : all) {
          m.put(p.sha256(), p);
        }
        if (!keepPacked) {
          CodePackager.deletePacked(all);
        }
        f.complete(Map.copyOf(m));
      } catch (IOException e) {
        f.completeExceptionally(new UncheckedIOException(e));
      } catch (RuntimeException e) {
        f.completeExceptionally(e);
      }
    }
    return f;
  }
}
