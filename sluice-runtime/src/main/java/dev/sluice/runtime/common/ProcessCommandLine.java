package dev.sluice.runtime.common;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The full command line of a process. {@link ProcessHandle.Info#commandLine()} cuts it at 4096
 * characters on Linux, which a long class path exceeds before the main class is named, so {@code
 * /proc/<pid>/cmdline} is read where it exists.
 */
public final class ProcessCommandLine {
  private ProcessCommandLine() {}

  /** The command line with arguments separated by spaces, if it can be read. */
  public static Optional<String> of(ProcessHandle p) {
    Path proc = Path.of("/proc", Long.toString(p.pid()), "cmdline");
    try {
      if (Files.isReadable(proc)) {
        String raw = new String(Files.readAllBytes(proc), StandardCharsets.UTF_8);
        return raw.isEmpty() ? Optional.empty() : Optional.of(raw.replace('\0', ' ').trim());
      }
    } catch (IOException e) {
      // the process exited meanwhile, or /proc is restricted: fall back to the JDK's view
    }
    return p.info().commandLine();
  }
}
