package dev.sluice.runtime.logging;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The end of a log file: where its last lines start (read backwards in blocks, so a large file
 * costs only its tail) and those lines as text, for error messages and {@code sluice logs --tail}.
 *
 * <p>Stateless.
 */
public final class LogTail {
  private static final int BLOCK = 8192;

  private LogTail() {}

  /**
   * The offset in {@code file} where its last {@code lines} lines start (a final line without a
   * newline counts); 0 if it has no more.
   */
  public static long startOfLastLines(Path file, int lines) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long end = f.length();
      if (lines <= 0) {
        return end;
      }
      long pos = end;
      int seen = 0;
      byte[] buf = new byte[BLOCK];
      boolean skipFinal = true;
      while (pos > 0) {
        int n = (int) Math.min(BLOCK, pos);
        pos -= n;
        f.seek(pos);
        f.readFully(buf, 0, n);
        for (int i = n - 1; i >= 0; i--) {
          if (buf[i] != '\n') {
            skipFinal = false;
            continue;
          }
          if (skipFinal) {
            // the newline that ends the last line
            skipFinal = false;
            continue;
          }
          if (++seen == lines) {
            return pos + i + 1;
          }
        }
      }
      return 0;
    }
  }

  /**
   * The offset in {@code file} of the first line that starts within its last {@code maxBytes} bytes
   * (0 if the file is no longer); the end of the file if no line starts there.
   */
  public static long startOfLinesWithin(Path file, long maxBytes) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long end = f.length();
      if (end <= maxBytes) {
        return 0;
      }
      long pos = end - maxBytes;
      f.seek(pos - 1);
      byte[] buf = new byte[BLOCK];
      // a line starts at pos if the byte before it ends a line; else after the next newline
      while (pos - 1 < end) {
        int n = f.read(buf, 0, (int) Math.min(BLOCK, end - (pos - 1)));
        if (n <= 0) {
          break;
        }
        for (int i = 0; i < n; i++) {
          if (buf[i] == '\n') {
            return pos + i;
          }
        }
        pos += n;
      }
      return end;
    }
  }

  /** The last {@code lines} lines of {@code file}, empty if it is missing or empty. */
  public static String of(Path file, int lines) {
    try {
      long start = startOfLastLines(file, lines);
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
        long len = Math.min(f.length() - start, 1 << 20);
        byte[] b = new byte[(int) Math.max(0, len)];
        f.seek(f.length() - b.length);
        f.readFully(b);
        return new String(b, StandardCharsets.UTF_8).stripTrailing();
      }
    } catch (NoSuchFileException | FileNotFoundException e) {
      return "";
    } catch (IOException e) {
      return "(log " + file + " unreadable: " + e.getMessage() + ")";
    }
  }

  /**
   * The last {@code lines} lines of a process's standard output and error {@code out} (JVM
   * messages, uncaught errors) followed by those of its log {@code log}, for error messages.
   */
  public static String ofProcess(Path out, Path log, int lines) {
    String o = of(out, lines);
    String l = of(log, lines);
    if (o.isBlank()) {
      return l;
    }
    return l.isBlank() ? o : o + "\n(" + log.getFileName() + ":)\n" + l;
  }
}
