package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The collector of worker JVMs (issue 14, large items): G1 unless the user's worker JVM options
 * name one, and then only theirs ({@code JvmCollector}); with G1, {@code System.gc()} is a
 * concurrent start and the heap has a floor, so that the runtime's collections after large arrays
 * ({@code LargeArrayCollector}) free them without a full collection or a shrunk heap.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class WorkerCollectorTest {
  /** The names of the collectors of the JVM that runs it, comma-separated. */
  static String collectors(Integer ignored) {
    return String.join(
        ",",
        ManagementFactory.getGarbageCollectorMXBeans().stream()
            .map(GarbageCollectorMXBean::getName)
            .toList());
  }

  /** The values of the JVM flags that shape its collections, as {@code name=value,...}. */
  static String collectionFlags(Integer ignored) {
    HotSpotDiagnosticMXBean hotspot =
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    return String.join(
        ",",
        List.of("ExplicitGCInvokesConcurrent", "MinHeapSize").stream()
            .map(f -> f + "=" + hotspot.getVMOption(f).getValue())
            .toList());
  }

  @AfterEach
  void stop() {
    if (Sluice.isInitialized()) {
      SluiceTestSupport.stopAndAssertNoWorkers();
    }
  }

  private static void start(List<String> workerJvmOptions) {
    SluiceTestSupport.start(
        SluiceConfig.builder().numCpus(1).numWorkers(1).workerJvmOptions(workerJvmOptions).build());
  }

  @Test
  void workersRunG1WhenTheUserNamesNoCollector() {
    start(List.of());

    assertThat(Sluice.task(WorkerCollectorTest::collectors, 0).remote().get(Duration.ofMinutes(2)))
        .contains("G1");
    assertThat(
            Sluice.task(WorkerCollectorTest::collectionFlags, 0)
                .remote()
                .get(Duration.ofMinutes(2)))
        .contains("ExplicitGCInvokesConcurrent=true")
        .contains("MinHeapSize=" + (512L << 20));
  }

  @Test
  void aCollectorNamedInTheWorkerJvmOptionsIsTheOnlyOne() {
    // Two collectors on one command line stop the JVM at start ("Multiple garbage collectors
    // selected"): the runtime adds its own only when the user names none.
    start(List.of("-XX:+UseSerialGC"));

    String names =
        Sluice.task(WorkerCollectorTest::collectors, 0).remote().get(Duration.ofMinutes(2));
    assertThat(names).doesNotContain("G1").contains("Copy").contains("MarkSweepCompact");
  }
}
