package dev.sluice.cli;

import dev.sluice.runtime.common.SessionRoots;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --session-root} option: the directory that holds this machine's session directories,
 * the records of started daemons ({@code daemons/}) and the cluster token files ({@code
 * clusters/}).
 */
final class SessionRootOption {
  @Option(
      names = "--session-root",
      paramLabel = "DIR",
      description =
          "Directory of sessions, daemon records and cluster tokens (default: "
              + "${DEFAULT-VALUE}).")
  private Path root = SessionRoots.defaultRoot();

  Path root() {
    return root.toAbsolutePath().normalize();
  }

  /** Whether the root is the default one, which commands find without {@code --session-root}. */
  boolean isDefault() {
    return root().equals(SessionRoots.defaultRoot().toAbsolutePath().normalize());
  }
}
