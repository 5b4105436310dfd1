package dev.sluice.runtime.code;

import java.io.IOException;
import java.util.List;
import java.util.Map;
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
    Map<String, CodePackager.CodePackage> byName =
        packages.stream()
            .collect(
                Collectors.toMap(
                    CodePackager.CodePackage::sha256, Function.identity(), (a, b) -> a));
    List<String> missing = control.missing(byName.keySet());
    for (String name : missing) {
      upload(byName.get(name));
    }
    return missing.size();
  }

  /** Uploads one package, waiting for the head's verdict. */
  public void upload(CodePackager.CodePackage p) throws IOException {
    control.upload(p, chunkBytes);
  }
}
