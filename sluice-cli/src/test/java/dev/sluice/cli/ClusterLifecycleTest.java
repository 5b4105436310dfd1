package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code sluice start}, {@code status} and {@code stop} end to end: real daemon JVMs, started from
 * the test class path under a session root of this test's own.
 */
class ClusterLifecycleTest {
  private static final String SMALL_STORE = CliCluster.SMALL_STORE;

  private CliCluster cluster;
  private Path root;

  @BeforeEach
  void newRoot() {
    cluster = CliCluster.newRoot("lifecycle");
    root = cluster.root();
  }

  @AfterEach
  void stopEverything() {
    cluster.close();
  }

  @Test
  @Timeout(240)
  void headAndNodeStartShowInStatusAndStop() throws IOException {
    CliRun head = cluster.startHead(0);
    DaemonRecord headRecord = records().getFirst();
    String address = headRecord.control();
    assertThat(headRecord.head()).isTrue();
    assertThat(head.out())
        .contains("Started head node " + headRecord.nodeId())
        .contains("SLUICE_CLUSTER_TOKEN=")
        .contains("bin/sluice start --address " + address)
        .contains("SluiceConfig.builder().address(\"" + address + "\")");
    assertThat(headRecord.sessionDir().resolve("logs").resolve("node.log")).isRegularFile();

    // Rule: the hints the head printed work as printed (here: a session root of the test's own).
    List<String> join = printedCommand(head, "To add a node on this machine:  bin/sluice ");
    assertThat(join).contains("--session-root", root.toString());
    join.addAll(
        List.of(
            "--resources",
            "GPU=1",
            "--num-cpus",
            "1",
            "--num-workers",
            "1",
            "--object-store-bytes",
            SMALL_STORE));
    CliRun node = CliRun.of(join.toArray(String[]::new));
    assertThat(node.code()).as(node.toString()).isZero();
    assertThat(node.out()).doesNotContain("SLUICE_CLUSTER_TOKEN=");
    List<DaemonRecord> started = records();
    assertThat(started).hasSize(2);
    assertThat(started).allSatisfy(r -> assertThat(r.process()).isPresent());

    String[] printedStatus =
        printedCommand(head, "Show the cluster:  bin/sluice ").toArray(String[]::new);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              CliRun status = CliRun.of(printedStatus);
              assertThat(status.code()).as(status.toString()).isZero();
              List<String> nodes =
                  status.outLines().stream().filter(l -> l.contains(" ALIVE ")).toList();
              assertThat(nodes).as(status.toString()).hasSize(2);
              assertThat(nodes)
                  .filteredOn(l -> l.contains(" head "))
                  .singleElement()
                  .asString()
                  .startsWith(NodeTable.shortId(headRecord.nodeId()))
                  .contains("CPU 0/1")
                  .contains(headRecord.nodeManager());
              assertThat(nodes).filteredOn(l -> l.contains("GPU 0/1")).hasSize(1);
              assertThat(nodes).allSatisfy(l -> assertThat(l).contains("/64.0 MiB"));
            });

    // Rule: a daemon whose session directory is too deep for socket paths (as here) keeps its
    // Unix sockets in a short owner-only directory, linked from the session directory, which
    // stop removes.
    List<Path> socketDirs = new ArrayList<>();
    for (DaemonRecord r : started) {
      Path link = r.sessionDir().resolve("sockets");
      assertThat(Files.isSymbolicLink(link)).as(link + " links to a short directory").isTrue();
      socketDirs.add(Files.readSymbolicLink(link));
    }
    assertThat(socketDirs)
        .allSatisfy(d -> assertThat(d.getParent()).isEqualTo(Path.of("/tmp")))
        .allSatisfy(d -> assertThat(d).isDirectory());

    CliRun stop =
        CliRun.of(
            printedCommand(head, "Stop the nodes started on this machine:  " + "bin/sluice ")
                .toArray(String[]::new));
    assertThat(stop.code()).as(stop.toString()).isZero();
    assertThat(stop.outLines()).hasSize(2);
    assertThat(stop.outLines().getFirst()).startsWith("stopped node ");
    assertThat(stop.outLines().getLast()).startsWith("stopped head ");
    assertThat(records()).isEmpty();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(cluster.processes()).isEmpty());
    for (DaemonRecord r : started) {
      assertThat(ProcessHandle.of(r.pid()).filter(ProcessHandle::isAlive)).isEmpty();
    }
    assertThat(socketDirs).allSatisfy(d -> assertThat(d).doesNotExist());

    CliRun after = CliRun.of(root, "status", "--address", address);
    assertThat(after.code()).as(after.toString()).isEqualTo(1);
    assertThat(after.err()).contains("no Sluice cluster answers at " + address);
    CliRun noHead = CliRun.of(root, "status");
    assertThat(noHead.code()).isEqualTo(1);
    assertThat(noHead.err()).contains("pass --address");
  }

  @Test
  @Timeout(120)
  void aNodeThatCannotJoinFailsWithItsLog() {
    CliRun node =
        CliRun.of(
            root,
            "start",
            "--address",
            "127.0.0.1:1",
            "--num-workers",
            "0",
            "--object-store-bytes",
            SMALL_STORE);
    assertThat(node.code()).as(node.toString()).isEqualTo(1);
    assertThat(node.err()).contains("no token for the cluster at 127.0.0.1:1");
  }

  /** The arguments of the command the run printed after {@code prefix} (paths without spaces). */
  private static List<String> printedCommand(CliRun run, String prefix) {
    String line =
        run.outLines().stream()
            .filter(l -> l.startsWith(prefix))
            .findFirst()
            .orElseThrow(
                () -> new AssertionError("no line starting with '" + prefix + "' in\n" + run));
    return new ArrayList<>(List.of(line.substring(prefix.length()).trim().split(" +")));
  }

  private List<DaemonRecord> records() throws IOException {
    List<DaemonRecord> all = new ArrayList<>(DaemonRecord.readAll(root, new ArrayList<>()));
    all.sort((a, b) -> Boolean.compare(b.head(), a.head()));
    return all;
  }
}
