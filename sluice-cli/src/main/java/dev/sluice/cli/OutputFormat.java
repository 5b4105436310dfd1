package dev.sluice.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The {@code --format table|json} option of the commands that print a cluster's state. */
final class OutputFormat {
  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      description = "table or json (default: ${DEFAULT-VALUE}).")
  private String format = "table";

  /** True for JSON, false for a table; any other value is a usage error of {@code cmd}. */
  boolean json(CommandLine cmd) {
    if (!format.equals("table") && !format.equals("json")) {
      throw new ParameterException(cmd, "unknown format '" + format + "': use table or json");
    }
    return format.equals("json");
  }
}
