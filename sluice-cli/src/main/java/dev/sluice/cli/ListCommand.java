package dev.sluice.cli;

import dev.sluice.StateQuery;
import dev.sluice.runtime.state.StateClient;
import dev.sluice.runtime.state.StateJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice list nodes|workers|tasks|objects|streams|actors}: the rows of the cluster's state
 * API ({@code ray list}), as a table or as JSON (an array of objects with snake-case keys, the same
 * names {@code --filter} takes).
 */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = "Lists the nodes, workers, tasks, objects, streams or actors of a cluster.")
final class ListCommand implements Callable<Integer> {
  /** One kind of row: how to ask for it and the table's columns. */
  private record Kind(
      BiFunction<StateClient, StateQuery, List<? extends Record>> rows, List<String> columns) {}

  private static final Map<String, Kind> KINDS =
      Map.of(
          "nodes",
          new Kind(
              StateClient::nodes,
              List.of(
                  "node_id",
                  "state",
                  "head",
                  "address",
                  "workers",
                  "object_store_used_bytes",
                  "object_store_capacity_bytes")),
          "workers",
          new Kind(
              StateClient::workers,
              List.of("worker_id", "node_id", "state", "pid", "address", "job_id")),
          "tasks",
          new Kind(
              StateClient::tasks,
              List.of(
                  "task_id",
                  "attempt_number",
                  "function_name",
                  "state",
                  "node_id",
                  "worker_id",
                  "error_type")),
          "objects",
          new Kind(
              StateClient::objects,
              List.of("object_id", "node_id", "size_bytes", "state", "pinned")),
          "streams",
          new Kind(
              StateClient::streams,
              List.of(
                  "stream_id",
                  "function_name",
                  "state",
                  "items_produced",
                  "items_consumed",
                  "items_held",
                  "backpressure_window",
                  "stalled_seconds",
                  "produced_per_second",
                  "consumed_per_second")),
          "actors",
          new Kind(
              StateClient::actors,
              List.of("actor_id", "class_name", "name", "state", "node_id", "num_restarts")));

  @Spec private CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "KIND",
      description = "nodes, workers, tasks, objects, streams or actors")
  private String kind;

  @Option(
      names = "--filter",
      paramLabel = "KEY=VALUE",
      description =
          "Only rows whose field KEY equals VALUE (ignoring case; repeatable, all must match),"
              + " e.g. state=FAILED.")
  private List<String> filters = new ArrayList<>();

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "At most N rows (default: ${DEFAULT-VALUE}).")
  private int limit = StateQuery.DEFAULT_LIMIT;

  @Mixin private OutputFormat output;

  @Mixin private ClusterOptions cluster;

  @Override
  public Integer call() throws IOException {
    Kind k = KINDS.get(kind);
    if (k == null) {
      throw new ParameterException(
          spec.commandLine(),
          "unknown kind '" + kind + "': use nodes, workers, tasks, objects, streams or actors");
    }
    boolean json = output.json(spec.commandLine());
    if (limit < 1) {
      throw new ParameterException(spec.commandLine(), "--limit must be at least 1");
    }
    StateQuery query = StateQuery.all().limit(limit);
    for (String f : filters) {
      int eq = f.indexOf('=');
      if (eq <= 0) {
        throw new ParameterException(
            spec.commandLine(), "--filter takes KEY=VALUE, got '" + f + "'");
      }
      query = query.filter(f.substring(0, eq).trim(), f.substring(eq + 1).trim());
    }
    StateQuery q = query;
    List<? extends Record> rows =
        ClusterConnection.withState(cluster, spec.commandLine(), state -> k.rows().apply(state, q));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(StateJson.rows(rows));
    } else {
      StateTable.print(out, rows, k.columns());
    }
    out.flush();
    return 0;
  }
}
