package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A test's own session root under {@code target/cli-test-sessions}, the daemons it starts there
 * with {@code sluice start}, and their cleanup ({@link #close}: {@code sluice stop}, then whatever
 * of its processes is left is killed). Used on the test's thread.
 */
final class CliCluster implements AutoCloseable {
  /** A 64 MiB object store: enough for the tests, small on a shared machine. */
  static final String SMALL_STORE = "67108864";

  private final Path root;

  private CliCluster(Path root) {
    this.root = root;
  }

  /** A fresh session root named {@code prefix} and the time. */
  static CliCluster newRoot(String prefix) {
    return new CliCluster(
        Path.of("target", "cli-test-sessions", prefix + "_" + System.currentTimeMillis())
            .toAbsolutePath());
  }

  /**
   * The arguments of a small head on free ports: one CPU, {@code workers} prestarted workers,
   * {@link #SMALL_STORE}, then {@code extra}.
   */
  static List<String> headArgs(int workers, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--head",
                "--port",
                "0",
                "--num-cpus",
                "1",
                "--num-workers",
                Integer.toString(workers),
                "--object-store-bytes",
                SMALL_STORE));
    args.addAll(List.of(extra));
    return args;
  }

  Path root() {
    return root;
  }

  /** Runs {@code sluice args... --session-root ROOT} in this JVM. */
  CliRun run(String... args) {
    return CliRun.of(root, args);
  }

  /** Runs {@code sluice start} with {@link #headArgs} and asserts that it succeeded. */
  CliRun startHead(int workers, String... extra) {
    List<String> args = new ArrayList<>(List.of("start"));
    args.addAll(headArgs(workers, extra));
    CliRun head = run(args.toArray(String[]::new));
    assertThat(head.code()).as(head.toString()).isZero();
    return head;
  }

  /** The record of the first daemon started under this root (the head, when started first). */
  DaemonRecord firstRecord() throws IOException {
    return DaemonRecord.readAll(root, new ArrayList<>()).getFirst();
  }

  /** The daemons and workers running under this root. */
  List<ProcessHandle> processes() {
    return SessionProcesses.under(root);
  }

  /** {@code sluice stop}, then kills what of this root's processes is left. */
  @Override
  public void close() {
    run("stop");
    for (ProcessHandle p : processes()) {
      p.destroyForcibly();
    }
  }
}
