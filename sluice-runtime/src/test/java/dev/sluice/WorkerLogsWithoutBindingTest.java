package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.logging.ProcessLogConfigurator;
import dev.sluice.runtime.node.ClassPathResolver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Rule "Sluice's own processes always log" (issue 15, part 4): a driver whose class path holds no
 * SLF4J binding (a plain {@code sluice-runtime} dependency) still gets worker log files with what
 * the worker runtime and its tasks log, in the layout {@code date time LEVEL [thread] logger -
 * message}, named by worker id and pid under the session's {@code logs/}; the worker's output file
 * holds no SLF4J warning.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class WorkerLogsWithoutBindingTest {
  private static final String STAMP = "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}";

  /** The driver: an embedded cluster of one worker, one task that logs; prints its log file. */
  public static final class Driver {
    public static void main(String[] args) {
      Sluice.init(
          SluiceConfig.builder().numCpus(1).numWorkers(1).sessionRoot(Path.of(args[0])).build());
      try {
        String log = Sluice.task(WorkerLogsWithoutBindingTest::logSomething).remote().get();
        System.out.println("LOG " + log);
      } finally {
        Sluice.shutdown();
      }
    }
  }

  /** A task: logs a line through SLF4J and returns the worker's log file. */
  static String logSomething() {
    LoggerFactory.getLogger(WorkerLogsWithoutBindingTest.class).info("task logs marker-51c2");
    return ProcessLogConfigurator.resolve(System.getProperty(ProcessLogConfigurator.FILE_PROPERTY));
  }

  @Test
  void workersOfADriverWithoutAnSlf4jBindingLogToTheirOwnFiles(@TempDir Path root)
      throws IOException, InterruptedException {
    List<Path> classPath = new ArrayList<>();
    for (Path p : ClassPathResolver.effectiveClassPath()) {
      if (!p.getFileName().toString().startsWith("logback-")) {
        classPath.add(p);
      }
    }
    assertThat(classPath).as("the driver's class path").isNotEmpty();
    Path stdout = root.resolve("driver.out");
    Path stderr = root.resolve("driver.err");
    Process driver =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                ClassPathResolver.join(classPath),
                Driver.class.getName(),
                root.resolve("sessions").toString())
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile())
            .redirectInput(ProcessBuilder.Redirect.PIPE)
            .start();
    try {
      assertThat(driver.waitFor(150, TimeUnit.SECONDS)).as("the driver finished").isTrue();
    } finally {
      driver.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    String err = Files.readString(stderr, StandardCharsets.UTF_8);
    assertThat(driver.exitValue()).as("driver exit code; its stderr:\n%s", err).isZero();
    assertThat(err)
        .as("the driver has no binding (the test's premise)")
        .contains("No SLF4J providers were found");
    String line =
        Files.readAllLines(stdout).stream()
            .filter(l -> l.startsWith("LOG "))
            .findFirst()
            .orElse("");
    Path log = Path.of(line.substring(4));
    assertThat(log.getFileName().toString()).matches("worker-\\p{XDigit}{12}-\\d+\\.log");
    assertThat(log.getParent().getFileName().toString()).isEqualTo("logs");
    assertThat(log.getParent().getParent().getFileName().toString()).startsWith("session_");
    // The worker has exited (the driver shut down): its file is complete.
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(text)
        .containsPattern(
            Pattern.compile(
                "(?m)^"
                    + STAMP
                    + " INFO  \\[main\\] \\S*WorkerMain - worker \\p{XDigit}+ \\(pid \\d+\\)"
                    + " serving on port \\d+"))
        .containsPattern(
            Pattern.compile(
                "(?m)^"
                    + STAMP
                    + " INFO  \\[sluice-task-executor-\\d+\\] \\S*WorkerLogsWithoutBindingTest"
                    + " - task logs marker-51c2$"))
        .doesNotContain("SLF4J");
    Path out;
    try (Stream<Path> files = Files.list(log.getParent())) {
      out =
          files
              .filter(p -> p.getFileName().toString().endsWith(".out"))
              .filter(
                  p ->
                      log.getFileName()
                          .toString()
                          .startsWith(p.getFileName().toString().replace(".out", "")))
              .findFirst()
              .orElseThrow();
    }
    assertThat(Files.readString(out, StandardCharsets.UTF_8))
        .as("the worker's standard output and error")
        .doesNotContain("SLF4J");
  }
}
