package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.runtime.common.SessionRoots;
import dev.sluice.runtime.daemon.LocalCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Tasks and streams on a cluster of three node processes ({@link LocalCluster}) joined by a driver
 * through {@link SluiceConfig.Builder#address}: work spreads over the nodes by spillback, custom
 * resources and node affinity pick the node, and a task no node can serve fails with a typed error
 * after the configured wait.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class MultiNodeTest {
  private static LocalCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster =
        LocalCluster.builder()
            .nodes(3)
            .cpusPerNode(2)
            .workersPerNode(1)
            .resources(2, Map.of("GPU", 1.0))
            .start();
    SluiceTestSupport.start(
        cluster.driverConfig().unschedulableTaskTimeout(Duration.ofSeconds(2)).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopDriverAndCluster(cluster);
  }

  static String nodeOf(Integer ignored) throws InterruptedException {
    Thread.sleep(300);
    return Sluice.runtimeContext().nodeId().hex();
  }

  static Iterator<String> nodeItems(Integer n) {
    String node = Sluice.runtimeContext().nodeId().hex();
    return IntStream.range(0, n).mapToObj(i -> node + "#" + i).iterator();
  }

  static Integer square(Integer x) {
    return x * x;
  }

  @Test
  void theDriverAttachesToTheHeadNode() {
    assertThat(Sluice.runtimeContext().nodeId()).isEqualTo(cluster.head().nodeId());
  }

  /**
   * Rule: a local cluster's session directories go under the {@code sluice.session.root} system
   * property when it is set (the build points it into {@code target/}), as a driver's do, so test
   * runs leave nothing in {@code java.io.tmpdir/sluice}.
   */
  @Test
  void theClusterKeepsItsSessionDirectoriesUnderTheConfiguredSessionRoot() {
    String configured = System.getProperty("sluice.session.root");
    Path root = configured != null ? Path.of(configured) : SessionRoots.defaultRoot();
    for (LocalCluster.Node n : cluster.nodes()) {
      assertThat(n.sessionDir().toAbsolutePath().normalize())
          .startsWith(root.toAbsolutePath().normalize());
    }
  }

  @Test
  void aBurstOfTasksSpreadsOverEveryNode() {
    List<ObjectRef<String>> refs = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      refs.add(Sluice.task(MultiNodeTest::nodeOf, i).remote());
    }
    Set<String> nodes = new HashSet<>(Sluice.get(refs));
    Set<String> all = new HashSet<>();
    cluster.nodes().forEach(n -> all.add(n.nodeId().hex()));
    assertThat(nodes).isEqualTo(all);
  }

  @Test
  void resultsAreCorrectWhicheverNodeRunsTheTask() {
    List<ObjectRef<Integer>> refs = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      refs.add(Sluice.task(MultiNodeTest::square, i).remote());
    }
    List<Integer> expected = IntStream.range(0, 200).map(i -> i * i).boxed().toList();
    assertThat(Sluice.get(refs)).isEqualTo(expected);
  }

  @Test
  void aTaskNeedingACustomResourceRunsOnTheNodeThatHasIt() {
    String node =
        Sluice.task(MultiNodeTest::nodeOf, 0)
            .options(TaskOptions.builder().resources(Map.of("GPU", 1.0)).build())
            .remote()
            .get();
    assertThat(node).isEqualTo(cluster.nodes().get(2).nodeId().hex());
  }

  @Test
  void hardNodeAffinityRunsTheTaskOnThatNode() {
    for (LocalCluster.Node n : cluster.nodes()) {
      String node =
          Sluice.task(MultiNodeTest::nodeOf, 0)
              .options(TaskOptions.builder().nodeAffinity(n.nodeId(), false).build())
              .remote()
              .get();
      assertThat(node).isEqualTo(n.nodeId().hex());
    }
  }

  @Test
  void aStreamProducedOnAnotherNodeArrivesInOrder() {
    LocalCluster.Node producer = cluster.nodes().get(1);
    List<String> items = new ArrayList<>();
    try (ObjectRefGenerator<String> gen =
        Sluice.generator(MultiNodeTest::nodeItems, 50)
            .options(
                TaskOptions.builder()
                    .nodeAffinity(producer.nodeId(), false)
                    .generatorBackpressureNumObjects(4)
                    .build())
            .remote()) {
      for (ObjectRef<String> ref : gen) {
        items.add(ref.get());
      }
    }
    assertThat(items).hasSize(50);
    for (int i = 0; i < 50; i++) {
      assertThat(items.get(i)).isEqualTo(producer.nodeId().hex() + "#" + i);
    }
  }

  static byte[] bigBlob(Integer size) {
    return new byte[size];
  }

  static String nodeOfBlob(byte[] blob) {
    return Sluice.runtimeContext().nodeId().hex() + ":" + blob.length;
  }

  @Test
  void aTaskWithALargeArgumentRunsOnTheNodeThatHoldsIt() {
    LocalCluster.Node holder = cluster.nodes().get(1);
    ObjectRef<byte[]> blob =
        Sluice.task(MultiNodeTest::bigBlob, 1 << 20)
            .options(TaskOptions.builder().nodeAffinity(holder.nodeId(), false).build())
            .remote();
    for (int i = 0; i < 3; i++) {
      assertThat(Sluice.task(MultiNodeTest::nodeOfBlob, blob).remote().get())
          .isEqualTo(holder.nodeId().hex() + ":" + (1 << 20));
    }
  }

  /**
   * Rule checked: a soft preference never overrides feasibility. The argument is large and on the
   * head, so the task prefers the head; only node 2 has a GPU. The head sends the request to node
   * 2, which must not send it back for the preference (before the fix the two nodes sent it to each
   * other for as long as the driver followed, and the task never ran).
   */
  @Test
  void aTaskNeedingAResourceOnlyAnotherNodeHasRunsThereThoughItsLargeArgumentIsOnTheHead() {
    LocalCluster.Node gpuNode = cluster.nodes().get(2);
    for (int size : new int[] {16 << 20, 200_000}) {
      ObjectRef<byte[]> blob = Sluice.put(new byte[size]);
      String ranOn =
          Sluice.task(MultiNodeTest::nodeOfBlob, blob)
              .options(TaskOptions.builder().resources(Map.of("GPU", 1.0)).build())
              .remote()
              .get(Duration.ofSeconds(60));
      assertThat(ranOn)
          .as("argument of %d bytes", size)
          .isEqualTo(gpuNode.nodeId().hex() + ":" + size);
    }
  }

  @Test
  void aDriverWithAWrongTokenIsRefused() {
    SluiceConfig wrong = cluster.driverConfig().clusterToken("not-the-cluster-token-0123").build();
    assertThatThrownBy(() -> new dev.sluice.runtime.driver.DriverRuntimeFactory().create(wrong))
        .isInstanceOf(RuntimeStartupException.class)
        .hasMessageContaining("refused this driver's cluster token");
  }

  @Test
  void aTaskNoNodeCanServeFailsAfterTheUnschedulableTimeout() {
    ObjectRef<Integer> ref =
        Sluice.task(MultiNodeTest::square, 3)
            .options(TaskOptions.builder().resources(Map.of("TPU", 1.0)).build())
            .remote();
    assertThatThrownBy(() -> ref.get(Duration.ofSeconds(30)))
        .isInstanceOf(TaskUnschedulableException.class)
        .hasMessageContaining("TPU");
  }

  @Test
  void hardAffinityToAnUnknownNodeFailsWithNodeDied() {
    ObjectRef<Integer> ref =
        Sluice.task(MultiNodeTest::square, 3)
            .options(TaskOptions.builder().nodeAffinity(NodeId.random(), false).build())
            .remote();
    assertThatThrownBy(() -> ref.get(Duration.ofSeconds(30))).isInstanceOf(NodeDiedException.class);
  }

  @Test
  void softAffinityToAnUnknownNodeRunsElsewhere() {
    Integer nine =
        Sluice.task(MultiNodeTest::square, 3)
            .options(TaskOptions.builder().nodeAffinity(NodeId.random(), true).build())
            .remote()
            .get(Duration.ofSeconds(30));
    assertThat(nine).isEqualTo(9);
  }
}
