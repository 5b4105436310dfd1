package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.daemon.LocalCluster;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node death on a real multi-node cluster ({@link LocalCluster}; a node is killed with {@code
 * SIGKILL}, its workers die with it): tasks and streams on the dead node are retried elsewhere
 * within {@code maxRetries}, else fail with {@link NodeDiedException}; lost shared-memory outputs
 * are rebuilt from lineage (a streamed item even while its generator still runs), or fail with
 * {@link ObjectLostException} when they cannot be; a driver that dies while its producer is blocked
 * on backpressure leaves no lease behind.
 *
 * <p>Each test that kills a node first adds a fresh one (the victim), so the tests are independent.
 * Tasks signal progress and wait for permission through marker files.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class NodeFailureTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int BLOB = 256 << 10;
  private static LocalCluster cluster;

  /** Marker directories of this test's tasks; JUnit deletes it after the test. */
  @TempDir Path markers;

  @BeforeAll
  static void startCluster() {
    cluster =
        LocalCluster.builder()
            .nodes(2)
            .cpusPerNode(2)
            .workersPerNode(1)
            .health(Duration.ofMillis(200), Duration.ofSeconds(5))
            .start();
    SluiceTestSupport.start(cluster.driverConfig().build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopDriverAndCluster(cluster);
  }

  // ------------------------------------------------------------------ task functions

  /** Waits (bounded) until {@code dir/name} exists. */
  static void awaitMarker(String dir, String name) {
    Path p = Path.of(dir, name);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (!Files.exists(p) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  static String node() {
    return Sluice.runtimeContext().nodeId().hex();
  }

  /**
   * The first attempt yields "node#k" for k below {@code before}, then waits for marker "go"; later
   * attempts wait for "go" first. Then items up to {@code total}.
   */
  static Iterator<String> tagged(String dir, Integer before, Integer total) {
    boolean first = Sluice.runtimeContext().attemptNumber() == 0;
    return IntStream.range(0, total)
        .mapToObj(
            k -> {
              if (k == (first ? before : 0)) {
                awaitMarker(dir, "go");
              }
              return node() + "#" + k;
            })
        .iterator();
  }

  /** Like {@link #tagged} with {@link #blob(int)} items, which live in shared memory. */
  static Iterator<byte[]> blobs(String dir, Integer before, Integer total) {
    boolean first = Sluice.runtimeContext().attemptNumber() == 0;
    return IntStream.range(0, total)
        .mapToObj(
            k -> {
              if (k == (first ? before : 0)) {
                awaitMarker(dir, "go");
              }
              return blob(k);
            })
        .iterator();
  }

  static byte[] blob(int k) {
    byte[] b = new byte[BLOB];
    for (int i = 0; i < b.length; i += 512) {
      b[i] = (byte) (k * 31 + i / 512);
    }
    return b;
  }

  static byte[] blobTask(Integer k) {
    return blob(k);
  }

  static String nodeAfterMarker(String dir) throws IOException {
    Files.writeString(Path.of(dir, "started-" + Sluice.runtimeContext().attemptNumber()), "");
    awaitMarker(dir, "go");
    return node();
  }

  // ------------------------------------------------------------------ tests

  @Test
  void streamsOnAKilledNodeResumeElsewhereWithRetriesAndEndWithNodeDiedWithout() throws Exception {
    LocalCluster.Node victim = cluster.addNode(Map.of());
    String dir = markerDir();
    try (ObjectRefGenerator<String> retried =
            Sluice.generator(NodeFailureTest::tagged, dir, 5, 12)
                .options(
                    TaskOptions.builder().nodeAffinity(victim.nodeId(), true).maxRetries(2).build())
                .remote();
        ObjectRefGenerator<String> unretried =
            Sluice.generator(NodeFailureTest::tagged, dir, 3, 10)
                .options(
                    TaskOptions.builder()
                        .nodeAffinity(victim.nodeId(), false)
                        .maxRetries(0)
                        .build())
                .remote()) {
      Iterator<ObjectRef<String>> it = retried.iterator();
      List<String> items = new ArrayList<>();
      for (int k = 0; k < 5; k++) {
        items.add(it.next().get(WAIT));
      }
      Iterator<ObjectRef<String>> it2 = unretried.iterator();
      for (int k = 0; k < 3; k++) {
        assertThat(it2.next().get(WAIT)).isEqualTo(victim.nodeId().hex() + "#" + k);
      }
      cluster.kill(victim);
      touch(dir, "go");

      it.forEachRemaining(ref -> items.add(ref.get(WAIT)));
      retried.completed().get(WAIT);
      assertThat(items).hasSize(12);
      for (int k = 0; k < 12; k++) {
        String[] nodeAndIndex = items.get(k).split("#");
        assertThat(nodeAndIndex[1]).isEqualTo(Integer.toString(k));
        boolean onVictim = nodeAndIndex[0].equals(victim.nodeId().hex());
        assertThat(onVictim).as("item %d produced on the victim", k).isEqualTo(k < 5);
      }

      ObjectRef<String> last = it2.next();
      assertThatThrownBy(() -> last.get(WAIT))
          .isInstanceOf(NodeDiedException.class)
          .hasMessageContaining(victim.nodeId().toString());
      assertThat(it2.hasNext()).isFalse();
      assertThatThrownBy(() -> unretried.completed().get(WAIT))
          .isInstanceOf(NodeDiedException.class);
    }
  }

  @Test
  void tasksOnAKilledNodeAreRetriedElsewhereOrFailWithNodeDied() throws IOException {
    LocalCluster.Node victim = cluster.addNode(Map.of());
    String retriedDir = markerDir();
    String unretriedDir = markerDir();
    ObjectRef<String> retried =
        Sluice.task(NodeFailureTest::nodeAfterMarker, retriedDir)
            .options(
                TaskOptions.builder().nodeAffinity(victim.nodeId(), true).maxRetries(1).build())
            .remote();
    ObjectRef<String> unretried =
        Sluice.task(NodeFailureTest::nodeAfterMarker, unretriedDir)
            .options(
                TaskOptions.builder().nodeAffinity(victim.nodeId(), false).maxRetries(0).build())
            .remote();
    await()
        .atMost(WAIT)
        .until(
            () ->
                Files.exists(Path.of(retriedDir, "started-0"))
                    && Files.exists(Path.of(unretriedDir, "started-0")));
    cluster.kill(victim);
    touch(retriedDir, "go");
    assertThat(retried.get(WAIT)).isNotEqualTo(victim.nodeId().hex());
    assertThatThrownBy(() -> unretried.get(WAIT))
        .isInstanceOf(NodeDiedException.class)
        .hasMessageContaining("nodeAfterMarker");
  }

  @Test
  void lostOutputsAreRebuiltFromLineageOrFailWithObjectLost() throws Exception {
    LocalCluster.Node victim = cluster.addNode(Map.of());
    String dir = markerDir();
    ObjectRef<byte[]> rebuildable =
        Sluice.task(NodeFailureTest::blobTask, 7)
            .options(
                TaskOptions.builder().nodeAffinity(victim.nodeId(), true).maxRetries(1).build())
            .remote();
    ObjectRef<byte[]> final0 =
        Sluice.task(NodeFailureTest::blobTask, 8)
            .options(
                TaskOptions.builder().nodeAffinity(victim.nodeId(), true).maxRetries(0).build())
            .remote();
    assertThat(Sluice.wait(List.of(rebuildable, final0), 2, WAIT).ready()).hasSize(2);
    try (ObjectRefGenerator<byte[]> gen =
        Sluice.generator(NodeFailureTest::blobs, dir, 4, 8)
            .options(
                TaskOptions.builder().nodeAffinity(victim.nodeId(), true).maxRetries(2).build())
            .remote()) {
      Iterator<ObjectRef<byte[]>> it = gen.iterator();
      List<ObjectRef<byte[]>> early = new ArrayList<>();
      for (int k = 0; k < 4; k++) {
        early.add(it.next());
      }
      cluster.kill(victim);
      // Item 2 lived only in the victim's store; the generator's retry (on another node) waits
      // for "go", so the rebuild of item 2 waits for the running attempt.
      CompletableFuture<byte[]> item2 = CompletableFuture.supplyAsync(() -> early.get(2).get(WAIT));
      touch(dir, "go");
      assertThat(item2.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(blob(2));
      for (int k = 0; k < 4; k++) {
        assertThat(early.get(k).get(WAIT)).as("early item %d", k).isEqualTo(blob(k));
      }
      for (int k = 4; k < 8; k++) {
        assertThat(it.next().get(WAIT)).as("item %d", k).isEqualTo(blob(k));
      }
      assertThat(it.hasNext()).isFalse();
    }
    assertThat(rebuildable.get(WAIT)).isEqualTo(blob(7));
    assertThatThrownBy(() -> final0.get(WAIT))
        .isInstanceOf(ObjectLostException.class)
        .hasMessageContaining("cannot be rebuilt");
  }

  @Test
  void aDriverKilledWhileItsProducerIsBlockedOnBackpressureReleasesTheWorkersAndCancelsItsTasks()
      throws Exception {
    LocalCluster.Node producerNode = cluster.nodes().get(1);
    String dir = markerDir();
    ProcessBuilder pb =
        new ProcessBuilder(
                Stream.concat(
                        Stream.of(
                            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                            "-cp",
                            System.getProperty("java.class.path"),
                            BlockedProducerDriverMain.class.getName()),
                        Stream.of(cluster.address(), producerNode.nodeId().hex(), dir))
                    .toList())
            .redirectErrorStream(true);
    pb.environment().put("SLUICE_CLUSTER_TOKEN", cluster.token());
    Process driver = pb.start();
    driver.getOutputStream().close();
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(driver.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      do {
        line = out.readLine();
      } while (line != null && !line.startsWith("READY"));
      assertThat(line).as("the driver started its producer").isNotNull();
      driver.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    await("the dead driver's running task is cancelled")
        .atMost(WAIT)
        .until(() -> Files.exists(Path.of(dir, "interrupted")));
    // The producer and the task held the node's two CPUs; a task needing both runs once freed.
    String ran =
        Sluice.task(NodeFailureTest::node)
            .options(
                TaskOptions.builder().numCpus(2).nodeAffinity(producerNode.nodeId(), false).build())
            .remote()
            .get(WAIT);
    assertThat(ran).isEqualTo(producerNode.nodeId().hex());
  }

  /** Worker side: a borrowed ref kept after its task returned, as a cache would. */
  private static volatile ObjectRef<String> kept;

  static String keep(List<ObjectRef<String>> refs) {
    kept = refs.get(0);
    return node();
  }

  /** The driver's referenced objects once collecting garbage changes nothing more. */
  private static long settledReferences() {
    long[] last = {-1};
    return await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              System.gc();
              long before = last[0];
              last[0] = Sluice.objectStoreStats().referencedObjects();
              return before == last[0] ? last[0] : null;
            },
            n -> n != null);
  }

  /** Lends a new object to a worker on {@code node}, which keeps it; the driver drops its ref. */
  private static void lendTo(LocalCluster.Node node) {
    ObjectRef<String> ref = Sluice.put("lent to a worker on the victim");
    String ran =
        Sluice.task(NodeFailureTest::keep, List.of(ref))
            .options(TaskOptions.builder().nodeAffinity(node.nodeId(), false).build())
            .remote()
            .get(WAIT);
    assertThat(ran).isEqualTo(node.nodeId().hex());
  }

  @Test
  void borrowsHeldOnAKilledNodeAreGivenBack() {
    LocalCluster.Node victim = cluster.addNode(Map.of());
    long base = settledReferences();

    lendTo(victim);
    assertThat(settledReferences()).as("only the borrower keeps the object").isEqualTo(base + 1);

    cluster.kill(victim);

    await("the dead node's borrow is forgotten")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(
            () -> {
              System.gc();
              assertThat(Sluice.objectStoreStats().referencedObjects()).isEqualTo(base);
            });
  }

  // ------------------------------------------------------------------ helpers

  private String markerDir() throws IOException {
    return Files.createTempDirectory(markers, "node-failure").toString();
  }

  private static void touch(String dir, String name) throws IOException {
    Files.createFile(Path.of(dir, name));
  }
}
