package dev.sluice.runtime.code;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Progress lines of a code upload (issue 15, part 5): what is to be sent (files and bytes) when it
 * starts, how far it got at most once per {@link #PERIOD_NANOS} as packages finish, and the total
 * with the time taken at the end, e.g. {@code uploading code to HEAD: 3/12 files, 4.2/58.0 MiB}.
 *
 * <p>Not thread-safe: used by the one thread that uploads.
 */
public final class UploadProgress {
  /** The least time between two lines while the upload runs. */
  static final long PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final String target;
  private final int files;
  private final long bytes;
  private final Consumer<String> sink;
  private final LongSupplier clock;
  private final long startNanos;
  private long lastNanos;
  private int doneFiles;
  private long doneBytes;

  /** Progress of sending {@code files} files of {@code bytes} bytes to {@code target}. */
  public UploadProgress(
      String target, int files, long bytes, Consumer<String> sink, LongSupplier clock) {
    this.target = target;
    this.files = files;
    this.bytes = bytes;
    this.sink = sink;
    this.clock = clock;
    this.startNanos = clock.getAsLong();
    this.lastNanos = startNanos;
    sink.accept(
        String.format(
            Locale.ROOT, "uploading code to %s: %d files, %s", target, files, mib(bytes)));
  }

  /** One file of {@code size} bytes was sent. */
  public void fileSent(long size) {
    doneFiles++;
    doneBytes += size;
    long now = clock.getAsLong();
    if (doneFiles < files && now - lastNanos >= PERIOD_NANOS) {
      lastNanos = now;
      sink.accept(
          String.format(
              Locale.ROOT,
              "uploading code to %s: %d/%d files, %s/%s",
              target,
              doneFiles,
              files,
              mibNumber(doneBytes),
              mib(bytes)));
    }
  }

  /** The upload has ended. */
  public void finished() {
    sink.accept(
        String.format(
            Locale.ROOT,
            "uploaded code to %s: %d files, %s in %d ms",
            target,
            doneFiles,
            mib(doneBytes),
            TimeUnit.NANOSECONDS.toMillis(clock.getAsLong() - startNanos)));
  }

  private static String mibNumber(long b) {
    return String.format(Locale.ROOT, "%.1f", b / (1024.0 * 1024.0));
  }

  private static String mib(long b) {
    return mibNumber(b) + " MiB";
  }
}
