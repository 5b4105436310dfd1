package dev.sluice.cli;

import dev.sluice.runtime.common.ProcessCommandLine;
import java.nio.file.Path;
import java.util.List;

/** The daemons and workers a test started: their command lines name its session root. */
final class SessionProcesses {
  private SessionProcesses() {}

  static List<ProcessHandle> under(Path root) {
    return ProcessHandle.allProcesses()
        .filter(p -> ProcessCommandLine.of(p).map(c -> c.contains(root.toString())).orElse(false))
        .toList();
  }
}
