package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * {@code sluice logs} end to end (issue 15): a head started with {@code sluice start} (real daemon
 * and worker JVMs) lists its log files through its node manager, prints a worker's log by its id
 * and the daemon's from its last lines, follows a growing file until stopped, refuses names outside
 * its logs directory, and its session is what {@code session_latest} points at.
 */
class LogsCommandTest {
  private CliCluster cluster;
  private Path root;

  @BeforeEach
  void newRoot() {
    cluster = CliCluster.newRoot("logs");
    root = cluster.root();
  }

  @AfterEach
  void stopEverything() {
    cluster.close();
  }

  @Test
  @Timeout(240)
  void logsListsPrintsAndFollowsTheFilesOfANodeThroughItsNodeManager() throws Exception {
    cluster.startHead(1);
    DaemonRecord record = cluster.firstRecord();
    assertThat(root.resolve("session_latest").toRealPath())
        .isEqualTo(record.sessionDir().toRealPath());

    // The prestarted worker registers and logs that it serves.
    Pattern workerLog = Pattern.compile("(?m) (worker-(\\p{XDigit}{12})-\\d+\\.log)$");
    String[] worker = new String[1];
    await()
        .atMost(Duration.ofSeconds(90))
        .untilAsserted(
            () -> {
              CliRun list = CliRun.of(root, "logs");
              assertThat(list.code()).as(list.toString()).isZero();
              assertThat(list.out())
                  .contains("node " + record.nodeId() + " (head)")
                  .contains(" node.log")
                  .contains(" node.out");
              Matcher m = workerLog.matcher(list.out());
              assertThat(m.find()).as(list.toString()).isTrue();
              worker[0] = m.group(2);
              CliRun log = CliRun.of(root, "logs", "--worker", worker[0]);
              assertThat(log.code()).as(log.toString()).isZero();
              assertThat(log.out())
                  .containsPattern(
                      "(?m)^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  \\[main\\]"
                          + " \\S*WorkerMain - worker "
                          + worker[0]
                          + "\\p{XDigit}* \\(pid \\d+\\) serving on port");
            });

    CliRun daemonTail =
        CliRun.of(
            root,
            "logs",
            "--daemon",
            "--tail",
            "3",
            "--address",
            record.control(),
            "--node",
            record.nodeId().substring(0, 8));
    assertThat(daemonTail.code()).as(daemonTail.toString()).isZero();
    assertThat(daemonTail.outLines()).as(daemonTail.toString()).hasSize(3);
    List<String> nodeLog = Files.readAllLines(record.sessionDir().resolve("logs/node.log"));
    assertThat(daemonTail.outLines())
        .isEqualTo(nodeLog.subList(nodeLog.size() - 3, nodeLog.size()));

    CliRun unknown = CliRun.of(root, "logs", "--worker", "ffff0000ffff");
    assertThat(unknown.code()).isEqualTo(1);
    assertThat(unknown.err()).contains("no log of worker ffff0000ffff");

    // Rule: only files of the session's logs directory are served.
    Path secret = record.sessionDir().resolve("secret.txt");
    Files.writeString(secret, "not a log\n");
    for (String name : List.of("../secret.txt", "..", "/etc/passwd", "logs/../../secret.txt")) {
      CliRun bad = CliRun.of(root, "logs", "--file", name);
      assertThat(bad.code()).as(bad.toString()).isEqualTo(1);
      assertThat(bad.out()).doesNotContain("not a log").doesNotContain("root:");
      assertThat(bad.err()).contains("refused to read");
    }

    // --follow prints what is appended until it is stopped (Ctrl-C; here: interrupted).
    StringWriter followed = new StringWriter();
    CommandLine cl = SluiceCli.commandLine();
    cl.setOut(new PrintWriter(followed, true));
    cl.setErr(new PrintWriter(new StringWriter(), true));
    Thread follower =
        Thread.ofPlatform()
            .name("logs-follow")
            .start(
                () ->
                    cl.execute(
                        "logs",
                        "--file",
                        "node.out",
                        "--follow",
                        "--tail",
                        "0",
                        "--session-root",
                        root.toString()));
    Path out = record.sessionDir().resolve("logs/node.out");
    String line = "appended-line-" + System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              Files.writeString(
                  out, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
              assertThat(followed.toString()).contains(line);
            });
    follower.interrupt();
    follower.join(Duration.ofSeconds(30));
    assertThat(follower.isAlive()).as("follow stops when interrupted").isFalse();
  }
}
