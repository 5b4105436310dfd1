package dev.sluice;

import java.nio.file.Path;

/**
 * A plain driver program for {@link ProcessLifetimeTest}, run as {@code java -cp ... } with no
 * extra JVM flags: starts an embedded cluster, runs a task so that workers are up, prints {@code
 * READY <pid of the task's worker>}, then waits for a line on standard input. On the line {@code
 * shutdown} (or end of input, so that it never outlives its parent) it shuts Sluice down and exits
 * 0.
 */
public final class LifetimeDriverMain {
  private LifetimeDriverMain() {}

  static long workerPid() {
    return ProcessHandle.current().pid();
  }

  public static void main(String[] args) throws Exception {
    SluiceConfig.Builder config = SluiceConfig.builder().numCpus(2);
    if (args.length > 0) {
      config.sessionRoot(Path.of(args[0]));
    }
    Sluice.init(config.build());
    long worker = Sluice.task(LifetimeDriverMain::workerPid).remote().get();
    String line = DriverMainLines.readyThenAwait("READY " + worker, "shutdown");
    DriverMainLines.shutdownAndExit(line == null ? "STDIN CLOSED" : "SHUTDOWN DONE");
  }
}
