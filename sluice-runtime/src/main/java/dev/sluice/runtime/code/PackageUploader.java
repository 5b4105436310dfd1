package dev.sluice.runtime.code;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A driver's side of code distribution: asks the head which of the job's packages it lacks and
 * uploads those, one at a time, in chunks under the transport's message limit (through a {@link
 * PackageClient}, under the stream's flow control).
 *
 * <p>Not thread-safe; used by one thread while a driver connects. Every call blocks.
 */
public final class PackageUploader {
  private final PackageClient control;
  private final int chunkBytes;

  /** An uploader to the control service behind {@code control}. */
  public PackageUploader(PackageClient control, int maxMessageBytes) {
    this.control = control;
    this.chunkBytes =
        Math.max(4096, Math.min(PackageSendStream.MAX_CHUNK_BYTES, maxMessageBytes / 2));
  }

  /** Uploads the packages the head does not have; returns how many were sent. */
  public int uploadMissing(List<CodePackager.CodePackage> packages) throws IOException {
    return uploadMissing(packages, "the head", line -> {});
  }

  /**
   * Uploads the packages the head ({@code target}) does not have, telling {@code progress} how far
   * it got (see {@link UploadProgress}); returns how many were sent.
   */
  public int uploadMissing(
      List<CodePackager.CodePackage> packages, String target, Consumer<String> progress)
      throws IOException {
    Map<String, CodePackager.CodePackage> byName =
        packages.stream()
            .collect(
                Collectors.toMap(
                    CodePackager.CodePackage::sha256, Function.identity(), (a, b) -> a));
    List<String> missing = control.missing(byName.keySet());
    if (missing.isEmpty()) {
      return 0;
    }
    long total = 0;
    for (String name : missing) {
      total += byName.get(name).size();
    }
    UploadProgress p =
        new UploadProgress(target, missing.size(), total, progress, System::nanoTime);
    for (String name : missing) {
      CodePackager.CodePackage pkg = byName.get(name);
      upload(pkg);
      p.fileSent(pkg.size());
    }
    p.finished();
    return missing.size();
  }

  /** Uploads one package, waiting for the head's verdict. */
  public void upload(CodePackager.CodePackage p) throws IOException {
    control.upload(p, chunkBytes);
  }
}
