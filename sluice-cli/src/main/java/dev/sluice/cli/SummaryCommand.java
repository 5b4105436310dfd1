package dev.sluice.cli;

import dev.sluice.TaskStatus;
import dev.sluice.TaskSummary;
import dev.sluice.runtime.state.StateJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice summary tasks}: task attempts counted by function and state ({@code ray summary
 * tasks}), one line per function, as a table or JSON.
 */
@Command(
    name = "summary",
    mixinStandardHelpOptions = true,
    description = "Counts a cluster's task attempts by function and state.")
final class SummaryCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "WHAT", description = "tasks")
  private String what;

  @Mixin private OutputFormat output;

  @Mixin private ClusterOptions cluster;

  @Override
  public Integer call() throws IOException {
    if (!what.equals("tasks")) {
      throw new ParameterException(spec.commandLine(), "unknown summary '" + what + "': use tasks");
    }
    boolean json = output.json(spec.commandLine());
    TaskSummary s =
        ClusterConnection.withState(cluster, spec.commandLine(), state -> state.summarizeTasks());
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Map<TaskStatus, Long>> sorted = new TreeMap<>(s.byFunction());
    if (json) {
      Map<String, Object> root = new LinkedHashMap<>();
      Map<String, Object> byFunction = new LinkedHashMap<>();
      sorted.forEach((f, c) -> byFunction.put(f, new TreeMap<>(c)));
      root.put("by_function", byFunction);
      root.put("total_tasks", s.totalTasks());
      root.put("dropped_events", s.droppedEvents());
      out.println(StateJson.of(root));
    } else {
      List<String[]> lines = new ArrayList<>();
      lines.add(new String[] {"FUNCTION", "TOTAL", "STATES"});
      sorted.forEach(
          (f, c) -> {
            long total = c.values().stream().mapToLong(Long::longValue).sum();
            List<String> states = new ArrayList<>();
            new TreeMap<>(c).forEach((st, n) -> states.add(st.name() + ": " + n));
            lines.add(new String[] {f, Long.toString(total), String.join(", ", states)});
          });
      int w0 = lines.stream().mapToInt(l -> l[0].length()).max().orElse(0);
      int w1 = lines.stream().mapToInt(l -> l[1].length()).max().orElse(0);
      for (String[] l : lines) {
        out.println(
            (l[0] + " ".repeat(w0 - l[0].length()))
                + "  "
                + (l[1] + " ".repeat(w1 - l[1].length()))
                + "  "
                + l[2]);
      }
      out.println(
          s.totalTasks()
              + " task attempts"
              + (s.droppedEvents() > 0
                  ? " (" + s.droppedEvents() + " task events dropped: counts are partial)"
                  : ""));
    }
    out.flush();
    return 0;
  }
}
