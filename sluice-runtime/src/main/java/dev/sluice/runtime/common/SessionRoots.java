package dev.sluice.runtime.common;

import java.nio.file.Path;

/**
 * Where session directories (logs, spill files, cluster token files) go when none is configured:
 * {@code java.io.tmpdir/sluice}, like Ray's {@code /tmp/ray}. Drivers, daemons, the CLI and {@code
 * LocalCluster} agree on it, so a driver finds the token a head on its machine wrote.
 */
public final class SessionRoots {
  private SessionRoots() {}

  /** The default root. */
  public static Path defaultRoot() {
    return Path.of(System.getProperty("java.io.tmpdir"), "sluice");
  }
}
