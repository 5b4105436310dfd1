package dev.sluice.cli;

import dev.sluice.runtime.rpc.proto.NodeInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code sluice status}: asks a cluster's control service for its nodes and prints one line per
 * node (see {@link NodeTable}). Without {@code --address} it asks the head started on this machine.
 */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = "Shows the nodes of a Sluice cluster.")
final class StatusCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;

  @Mixin private ClusterOptions cluster;

  @Override
  public Integer call() throws IOException {
    ClusterConnection connection = ClusterConnection.resolve(cluster, spec.commandLine());
    List<NodeInfo> nodes = connection.nodes();
    PrintWriter out = spec.commandLine().getOut();
    NodeTable.print(out, connection.target(), nodes);
    out.flush();
    return 0;
  }
}
