package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.common.SessionDirectories;
import dev.sluice.runtime.daemon.DaemonConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Rule "long CLI operations show progress" (issue 15, part 5): while {@code sluice start} waits for
 * its daemon to come up it prints, on its error writer, what it waits for, for how long, and the
 * daemon's latest log line.
 */
class StartProgressTest {
  @Test
  @Timeout(180)
  void waitingForADaemonPrintsProgressOnTheErrorWriter() throws Exception {
    Path root = CliCluster.newRoot("progress").root();
    Path session = SessionDirectories.create(root, SessionDirectories.SESSION_PREFIX, false);
    DaemonConfig config =
        DaemonConfig.parse(
            CliCluster.headArgs(
                    0,
                    "--session-dir",
                    session.toString(),
                    "--ready-file",
                    session.resolve("ready.properties").toString(),
                    "--session-root",
                    root.toString())
                .toArray(String[]::new));
    StringWriter err = new StringWriter();
    // A period shorter than any JVM start: the first wait already reports.
    DaemonLauncher launcher = new DaemonLauncher(new PrintWriter(err, true), Duration.ofNanos(1));
    DaemonLauncher.Started started = launcher.launch(config, false);
    try {
      assertThat(err.toString())
          .containsPattern(
              "(?m)^waiting for the head \\(pid "
                  + started.process().pid()
                  + "\\) to come up: \\d+ s");
    } finally {
      started.process().destroy();
      if (!started.process().waitFor(30, TimeUnit.SECONDS)) {
        started.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
