package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import dev.sluice.runtime.logging.ProcessLogConfigurator;
import io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Worker start-up (issue 11): a worker configures its logging in code (no XML parsed on its way to
 * the first task) and still writes its log file, and its Netty leaves the flight recorder alone
 * (its first buffer would otherwise initialize JFR's metadata).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class WorkerStartupTest {
  @BeforeAll
  static void start() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(1).numWorkers(1).build());
  }

  @AfterAll
  static void stop() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  /**
   * Logs {@code marker}, then returns: whether the worker's built-in logging is in place, whether
   * Netty emits JFR events, and the worker's log file.
   */
  static List<String> probe(String marker) {
    LoggerFactory.getLogger(WorkerStartupTest.class).info("task says {}", marker);
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    return List.of(
        Boolean.toString(root.getAppender("sluice-worker") != null),
        Boolean.toString(PlatformDependent.isJfrEnabled()),
        ProcessLogConfigurator.resolve(System.getProperty(ProcessLogConfigurator.FILE_PROPERTY)));
  }

  @Test
  void aWorkerConfiguresItsLoggingInCodeWritesItsLogFileAndLeavesJfrAlone() throws IOException {
    List<String> r =
        Sluice.task(WorkerStartupTest::probe, "marker-7f3a").remote().get(Duration.ofMinutes(2));

    assertThat(r.get(0)).as("the worker's logging is the built-in one").isEqualTo("true");
    assertThat(r.get(1)).as("Netty emits JFR events in the worker").isEqualTo("false");
    Path log = Path.of(r.get(2));
    Pattern taskLine =
        Pattern.compile(
            "(?m)^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  "
                + "\\[sluice-task-executor-\\d+\\] \\S*WorkerStartupTest - task says marker-7f3a$");
    Pattern servingLine =
        Pattern.compile(
            "(?m)^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  \\[main\\] "
                + "\\S*WorkerMain - worker \\p{XDigit}+ \\(pid \\d+\\) serving on port \\d+, \\d+ ms after"
                + " its JVM started \\(-?\\d+ ms of CPU\\)$");
    await("the worker's log file has the task's line")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> taskLine.matcher(Files.readString(log)).find());
    assertThat(Files.readString(log)).containsPattern(servingLine);
  }
}
