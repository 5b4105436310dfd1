package dev.sluice.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --session-root} option: the directory that holds this machine's session directories,
 * the records of started daemons ({@code daemons/}) and the cluster token files
 * ({@code clusters/}).
 */
final class SessionRootOption {
  @Option(names = "--session-root", paramLabel = "DIR",
      description = "Directory of sessions, daemon records and cluster tokens (default: "
          + "${DEFAULT-VALUE}).")
  private Path root = dev.sluice.runtime.common.SessionRoots.defaultRoot();

  Path root() {
    return root.toAbsolutePath().normalize();
  }
}
