package dev.sluice.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice timeline -o trace.json}: writes the cluster's task attempts as a Chrome trace
 * ({@code ray timeline}), one slice per attempt on a track per node and worker; open it in
 * Perfetto.
 */
@Command(
    name = "timeline",
    mixinStandardHelpOptions = true,
    description = "Writes the tasks' timeline as a Chrome trace (open it in ui.perfetto.dev).")
final class TimelineCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FILE",
      description = "Where to write the trace (default: ${DEFAULT-VALUE}).")
  private Path output = Path.of("timeline.json");

  @Mixin private ClusterOptions cluster;

  @Override
  public Integer call() throws IOException {
    ClusterConnection.withState(
        cluster,
        spec.commandLine(),
        state -> {
          state.timeline(output);
          return null;
        });
    PrintWriter out = spec.commandLine().getOut();
    out.println(
        "wrote "
            + output.toAbsolutePath()
            + " (Chrome trace; open it in https://ui.perfetto.dev or chrome://tracing)");
    out.flush();
    return 0;
  }
}
