package dev.sluice.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code sluice} command: starts node daemons ({@code start}), stops the ones started on this
 * machine ({@code stop}), shows a cluster's nodes ({@code status}) and its state ({@code list},
 * {@code summary}, {@code timeline}). Exit codes: 0 success, 1 failure, 2 usage error.
 */
@Command(
    name = "sluice",
    mixinStandardHelpOptions = true,
    versionProvider = SluiceCli.Version.class,
    subcommands = {
      StartCommand.class,
      StopCommand.class,
      StatusCommand.class,
      ListCommand.class,
      SummaryCommand.class,
      TimelineCommand.class
    },
    description = "Starts, stops and inspects the nodes of a Sluice cluster.")
public final class SluiceCli implements Runnable {
  /** System property with the level of the CLI's own log output (WARN unless set). */
  static final String LOG_LEVEL_PROPERTY = "sluice.log.level";

  @Spec private CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(
        spec.commandLine(), "Missing command: start, stop, status, list, summary or timeline");
  }

  /**
   * The command line, ready to {@link CommandLine#execute execute}: a usage error is reported with
   * a pointer to {@code --help} (exit code 2), a {@link CliException} in one line and any other
   * failure with its stack trace (exit code 1).
   */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setParameterExceptionHandler(SluiceCli::usageError);
    cl.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (e instanceof CliException) {
            cmd.getErr().println("sluice " + cmd.getCommandName() + ": " + e.getMessage());
          } else {
            cmd.getErr().println("sluice " + cmd.getCommandName() + ": unexpected error: " + e);
            e.printStackTrace(cmd.getErr());
          }
          cmd.getErr().flush();
          return CommandLine.ExitCode.SOFTWARE;
        });
    return cl;
  }

  private static int usageError(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println(cmd.getColorScheme().errorText(e.getMessage()));
    if (!UnmatchedArgumentException.printSuggestions(e, err)) {
      err.println(
          "Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
    }
    err.flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    if (System.getProperty(LOG_LEVEL_PROPERTY) == null) {
      System.setProperty(LOG_LEVEL_PROPERTY, "WARN");
    }
    System.exit(commandLine().execute(args));
  }

  /** The version from the jar's manifest. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = SluiceCli.class.getPackage().getImplementationVersion();
      return new String[] {"sluice " + (v == null ? "(development build)" : v)};
    }
  }
}
