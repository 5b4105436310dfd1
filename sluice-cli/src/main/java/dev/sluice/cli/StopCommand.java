package dev.sluice.cli;

import dev.sluice.runtime.rpc.SocketDirectory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice stop}: stops the daemons {@code sluice start} recorded on this machine (all, or
 * those of one cluster), the other nodes before the heads so that they leave the cluster cleanly.
 * Each gets {@code SIGTERM} and {@link #GRACE} to stop its workers, then {@code SIGKILL}; a killed
 * daemon's short socket directory ({@link SocketDirectory}) is removed for it.
 */
@Command(
    name = "stop",
    mixinStandardHelpOptions = true,
    description = "Stops the Sluice nodes started on this machine.")
final class StopCommand implements Callable<Integer> {
  static final Duration GRACE = Duration.ofSeconds(15);

  @Spec private CommandSpec spec;

  @Option(
      names = "--address",
      paramLabel = "HOST:PORT",
      converter = HostPortConverter.class,
      description = "Stop only the nodes of the cluster whose control service is at HOST:PORT.")
  private String address;

  @Mixin private SessionRootOption sessionRoot;

  @Override
  public Integer call() throws IOException, InterruptedException {
    Path root = sessionRoot.root();
    PrintWriter out = spec.commandLine().getOut();
    List<Path> unreadable = new ArrayList<>();
    List<DaemonRecord> records = DaemonRecord.readAll(root, unreadable);
    for (Path f : unreadable) {
      out.println("removed unreadable record " + f);
      Files.deleteIfExists(f);
    }
    records.removeIf(r -> address != null && !address.equals(r.control()));
    if (records.isEmpty()) {
      out.println(
          "no running Sluice node recorded under "
              + DaemonRecord.directory(root)
              + (address == null ? "" : " for " + address));
      out.flush();
      return 0;
    }
    boolean nodesStopped = stop(records.stream().filter(r -> !r.head()).toList(), root, out);
    boolean headsStopped = stop(records.stream().filter(DaemonRecord::head).toList(), root, out);
    out.flush();
    if (!nodesStopped || !headsStopped) {
      throw new CliException("some nodes could not be stopped (see above)");
    }
    return 0;
  }

  /** Stops {@code records}' daemons together; false if one survives even SIGKILL. */
  private static boolean stop(List<DaemonRecord> records, Path root, PrintWriter out)
      throws IOException, InterruptedException {
    Map<DaemonRecord, ProcessHandle> running = new LinkedHashMap<>();
    for (DaemonRecord r : records) {
      Optional<ProcessHandle> p = r.process();
      if (p.isPresent()) {
        p.get().destroy();
        running.put(r, p.get());
      } else {
        out.println("not running: " + r.describe() + "; record removed");
        SocketDirectory.removeOf(r.sessionDir());
        r.delete(root);
      }
    }
    long deadline = System.nanoTime() + GRACE.toNanos();
    boolean allStopped = true;
    for (Map.Entry<DaemonRecord, ProcessHandle> e : running.entrySet()) {
      DaemonRecord r = e.getKey();
      ProcessHandle p = e.getValue();
      if (awaitExit(p, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
        out.println("stopped " + r.describe());
      } else {
        p.destroyForcibly();
        if (awaitExit(p, Duration.ofSeconds(5))) {
          out.println(
              "killed " + r.describe() + ": it did not stop within " + GRACE.toSeconds() + " s");
        } else {
          out.println("could not stop " + r.describe());
          allStopped = false;
          continue;
        }
      }
      SocketDirectory.removeOf(r.sessionDir()); // a killed daemon leaves it
      r.delete(root);
    }
    return allStopped;
  }

  private static boolean awaitExit(ProcessHandle p, Duration timeout) throws InterruptedException {
    try {
      p.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException | ExecutionException e) {
      return !p.isAlive();
    }
  }
}
