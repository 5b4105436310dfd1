package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.ObjectRef;
import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import dev.sluice.StateQuery;
import dev.sluice.TaskState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code sluice list}, {@code summary} and {@code timeline} against a real head started by {@code
 * sluice start}, with tasks run by a driver in this JVM.
 */
@Timeout(300)
class StateCommandsTest {
  private static CliCluster cluster;
  private static Path root;
  private static String address;

  static int twice(int x) {
    return 2 * x;
  }

  @BeforeAll
  static void startClusterAndRunTasks() throws IOException {
    cluster = CliCluster.newRoot("state");
    root = cluster.root();
    cluster.startHead(1);
    address = cluster.firstRecord().control();
    Sluice.init(SluiceConfig.builder().address(address).sessionRoot(root).build());
    List<ObjectRef<Integer>> refs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      refs.add(Sluice.task(StateCommandsTest::twice, i).remote());
    }
    refs.forEach(ObjectRef::get);
  }

  @AfterAll
  static void stopEverything() {
    Sluice.shutdown();
    cluster.close();
  }

  /** Rule: {@code list tasks} prints the attempts as a table and as JSON, filtered. */
  @Test
  void listTasksAsTableAndJson() {
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              CliRun table = CliRun.of(root, "list", "tasks", "--filter", "state=FINISHED");
              assertThat(table.code()).as(table.toString()).isZero();
              assertThat(table.outLines().getFirst())
                  .startsWith("TASK_ID")
                  .contains("FUNCTION_NAME")
                  .contains("STATE");
              assertThat(table.outLines())
                  .filteredOn(l -> l.contains("StateCommandsTest.twice"))
                  .hasSize(3)
                  .allSatisfy(l -> assertThat(l).contains("FINISHED"));
              assertThat(table.outLines().getLast()).isEqualTo("3 rows");
            });
    CliRun json =
        CliRun.of(root, "list", "tasks", "--format", "json", "--limit", "2", "--address", address);
    assertThat(json.code()).as(json.toString()).isZero();
    assertThat(json.out().trim()).startsWith("[{\"task_id\":\"").endsWith("}]");
    assertThat(json.out().split("\"function_name\":\"StateCommandsTest.twice\"", -1)).hasSize(3);

    CliRun nodes = CliRun.of(root, "list", "nodes", "--format", "json");
    assertThat(nodes.code()).as(nodes.toString()).isZero();
    assertThat(nodes.out()).contains("\"state\":\"ALIVE\"").contains("\"head\":true");

    CliRun bad = CliRun.of(root, "list", "things");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("unknown kind 'things'");
  }

  /** Rule: {@code logs --task} prints the log of the worker that ran the task. */
  @Test
  void logsOfATaskAreItsWorkersLog() {
    TaskState ran =
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    Sluice.state().tasks(StateQuery.all().filter("state", "FINISHED")).stream()
                        .filter(t -> t.workerId() != null)
                        .findFirst(),
                Optional::isPresent)
            .orElseThrow();
    String worker = ran.workerId().hex().substring(0, 12);
    CliRun log = CliRun.of(root, "logs", "--task", ran.taskId().hex(), "--tail", "-1");
    assertThat(log.code()).as(log.toString()).isZero();
    assertThat(log.out()).containsPattern("\\S*WorkerMain - worker " + worker);

    CliRun unknown = CliRun.of(root, "logs", "--task", "00ff00ff00ff00ff00ff00ff");
    assertThat(unknown.code()).isEqualTo(1);
    assertThat(unknown.err()).contains("no task 00ff00ff00ff00ff00ff00ff");
  }

  /** Rule: {@code summary tasks} counts attempts by function and state. */
  @Test
  void summaryCountsByFunctionAndState() {
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              CliRun s = CliRun.of(root, "summary", "tasks");
              assertThat(s.code()).as(s.toString()).isZero();
              assertThat(s.outLines())
                  .anySatisfy(
                      l ->
                          assertThat(l)
                              .startsWith("StateCommandsTest.twice")
                              .contains("FINISHED: 3"));
            });
    CliRun json = CliRun.of(root, "summary", "tasks", "--format", "json");
    assertThat(json.out()).contains("\"StateCommandsTest.twice\":{\"FINISHED\":3}");
  }

  /** Rule: {@code timeline} writes a Chrome trace with one slice per attempt. */
  @Test
  void timelineWritesOneSlicePerAttempt() throws IOException {
    Path trace = root.resolve("trace.json");
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              CliRun t = CliRun.of(root, "timeline", "-o", trace.toString());
              assertThat(t.code()).as(t.toString()).isZero();
              assertThat(t.out()).contains("wrote " + trace);
              String json = Files.readString(trace);
              assertThat(json).startsWith("{\"traceEvents\":[");
              assertThat(
                      json.split(
                          "\"name\":\"StateCommandsTest.twice\",\"cat\":\"normal_task\",\"ph\":\"X\"",
                          -1))
                  .hasSize(4);
            });
  }
}
