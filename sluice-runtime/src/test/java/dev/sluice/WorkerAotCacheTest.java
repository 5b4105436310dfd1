package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.code.CodePackager;
import dev.sluice.runtime.node.ClassPathResolver;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fast worker start (issue 11): a node keeps a JDK AOT cache per worker launch line in its session
 * root. The first worker of a jar-only class path records it, later workers start with it and run
 * tasks, and a corrupt cache still lets a worker run (the JVM falls back).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class WorkerAotCacheTest {
  @TempDir Path tmp;

  /** The JVM options of the worker that runs it, one per line. */
  static String workerJvmOptions(Integer ignored) {
    return String.join("\n", ManagementFactory.getRuntimeMXBean().getInputArguments());
  }

  @AfterEach
  void stop() {
    if (Sluice.isInitialized()) {
      SluiceTestSupport.stopAndAssertNoWorkers();
    }
  }

  private String runSession(Path root, List<Path> jars) {
    SluiceTestSupport.start(
        SluiceConfig.builder()
            .numCpus(1)
            .numWorkers(1)
            .sessionRoot(root)
            .codeSearchPath(jars)
            .build());
    return Sluice.task(WorkerAotCacheTest::workerJvmOptions, 0).remote().get(Duration.ofMinutes(2));
  }

  private static Optional<Path> cacheFile(Path root) throws IOException {
    Path dir = root.resolve("cache").resolve("worker-aot");
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".aot")).findFirst();
    }
  }

  @Test
  void firstWorkerRecordsTheCacheLaterWorkersStartWithItAndACorruptOneStillRuns()
      throws IOException {
    // The JVM archives classes from jars only: pack the test's class directories into jars.
    List<Path> jars =
        CodePackager.packages(ClassPathResolver.effectiveClassPath(), tmp.resolve("jars")).stream()
            .map(CodePackager.CodePackage::file)
            .toList();
    Path root = tmp.resolve("root");

    String first = runSession(root, jars);
    assertThat(first).contains("-XX:AOTMode=record");
    Sluice.shutdown();
    SluiceTestSupport.awaitNoWorkerProcesses();

    // Assembled when the recording worker exited (or, if that took too long, by the next node).
    runSession(root, jars);
    await("the worker AOT cache is assembled")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> cacheFile(root).isPresent());
    Sluice.shutdown();
    SluiceTestSupport.awaitNoWorkerProcesses();
    Path cache = cacheFile(root).orElseThrow();
    assertThat(Files.size(cache)).isPositive();

    String withCache = runSession(root, jars);
    assertThat(withCache).contains("-XX:AOTCache=" + cache);
    Sluice.shutdown();
    SluiceTestSupport.awaitNoWorkerProcesses();

    Files.write(cache, "not an AOT cache".getBytes());
    String withCorruptCache = runSession(root, jars);
    assertThat(withCorruptCache).contains("-XX:AOTCache=" + cache);
  }
}
