package dev.sluice.runtime.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The collector options of launched JVMs: G1 unless the user's options name a collector. */
class JvmCollectorTest {
  @Test
  void workersGetG1WhenTheUserNamesNoCollector() {
    List<String> options = WorkerProcess.jvmOptions(List.of("-Xmx2g", "-Dfoo=UseParallelGC"));
    assertThat(options).contains("-XX:+UseG1GC").doesNotContain("-XX:+UseParallelGC");
    assertThat(options).containsAll(WorkerProcess.RUNTIME_JVM_OPTIONS);
  }

  @Test
  void aUserCollectorIsTheOnlyOneOnTheCommandLine() {
    for (String user : List.of("-XX:+UseParallelGC", "-XX:+UseZGC", "-XX:-UseG1GC")) {
      assertThat(WorkerProcess.jvmOptions(List.of(user)))
          .as("runtime options besides %s", user)
          .noneMatch(o -> o.matches("-XX:[+-]Use\\w*GC"));
    }
  }

  @Test
  void workersGetConcurrentExplicitCollectionsAndAHeapFloorWithG1() {
    assertThat(WorkerProcess.jvmOptions(List.of()))
        .contains(JvmCollector.EXPLICIT_GC_CONCURRENT, JvmCollector.HEAP_FLOOR);
    assertThat(WorkerProcess.jvmOptions(List.of("-XX:+UseSerialGC")))
        .doesNotContain(JvmCollector.EXPLICIT_GC_CONCURRENT, JvmCollector.HEAP_FLOOR);
  }

  @Test
  void aUserHeapSizeLeavesOutTheHeapFloor() {
    for (String user :
        List.of("-Xmx256m", "-Xms64m", "-XX:MaxHeapSize=1g", "-XX:MinHeapSize=16m")) {
      assertThat(WorkerProcess.jvmOptions(List.of(user)))
          .as("runtime options besides %s", user)
          .contains(JvmCollector.EXPLICIT_GC_CONCURRENT)
          .doesNotContain(JvmCollector.HEAP_FLOOR);
    }
    assertThat(WorkerProcess.jvmOptions(List.of("-Xmn64m", "-XX:MaxRAMPercentage=50")))
        .contains(JvmCollector.HEAP_FLOOR);
  }

  @Test
  void nodeDaemonsGetTheSameCollector() {
    assertThat(NodeManager.runtimeJvmOptions()).contains(JvmCollector.DEFAULT);
  }
}
