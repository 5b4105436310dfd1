package dev.sluice.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** One in-process run of the {@code sluice} command line: exit code and what it printed. */
record CliRun(int code, String out, String err) {

  static CliRun of(Path sessionRoot, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--session-root", sessionRoot.toString()));
    return of(all.toArray(String[]::new));
  }

  static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = SluiceCli.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }

  List<String> outLines() {
    return out.lines().toList();
  }

  @Override
  public String toString() {
    return "exit code " + code + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
  }
}
