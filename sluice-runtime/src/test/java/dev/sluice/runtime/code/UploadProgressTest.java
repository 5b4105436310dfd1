package dev.sluice.runtime.code;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Rule "long uploads show progress" (issue 15, part 5): an upload says what it sends (files and
 * bytes), how far it got at most once a second while it runs, and the total at the end.
 */
class UploadProgressTest {
  @Test
  void anUploadReportsFilesAndBytesAsItGoes() {
    List<String> lines = new ArrayList<>();
    AtomicLong clock = new AtomicLong();
    UploadProgress p = new UploadProgress("head:6390", 4, 4L << 20, lines::add, clock::get);
    p.fileSent(1 << 20);
    clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(1500));
    p.fileSent(1 << 20);
    clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(200));
    p.fileSent(1 << 20);
    clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(1500));
    p.fileSent(1 << 20);
    p.finished();

    assertThat(lines)
        .containsExactly(
            "uploading code to head:6390: 4 files, 4.0 MiB",
            "uploading code to head:6390: 2/4 files, 2.0/4.0 MiB",
            "uploaded code to head:6390: 4 files, 4.0 MiB in 3200 ms");
  }
}
