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
  void nodeDaemonsGetTheSameCollector() {
    assertThat(NodeManager.runtimeJvmOptions()).contains(JvmCollector.DEFAULT);
  }
}
