package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.common.ProcessCommandLine;
import dev.sluice.runtime.node.ClassPathResolver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * No worker process outlives its node manager: a worker whose node manager or driver dies (even by
 * {@code kill -9}) exits by itself within a few seconds, and the node's short socket directory goes
 * with the workers.
 *
 * <p>The driver is a separate, plain JVM ({@code java -cp <class path> LifetimeDriverMain}, no
 * extra flags) that runs an embedded cluster; its worker JVMs are its child processes.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ProcessLifetimeTest {
  private static final String WORKER_MAIN = SluiceTestSupport.WORKER_MAIN;
  private static final Duration WORKER_EXIT_LIMIT = Duration.ofSeconds(10);

  @TempDir Path tmp;
  private Process driver;
  private final List<String> driverOut = new CopyOnWriteArrayList<>();
  private final List<ProcessHandle> workers = new ArrayList<>();

  @AfterEach
  void killLeftovers() throws InterruptedException {
    if (driver != null && driver.isAlive()) {
      driver.destroyForcibly();
      driver.waitFor(10, TimeUnit.SECONDS);
    }
    for (ProcessHandle w : workers) {
      if (running(w)) {
        w.destroyForcibly();
      }
    }
  }

  /** Starts the driver JVM and returns once it printed READY, with its worker processes. */
  private List<ProcessHandle> startDriverAndAwaitWorkers() throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<Path> cp = ClassPathResolver.effectiveClassPath();
    ProcessBuilder pb =
        new ProcessBuilder(
                java,
                "-cp",
                ClassPathResolver.join(cp),
                LifetimeDriverMain.class.getName(),
                // too deep for socket paths: the node's sockets go to a short directory
                tmp.resolve("sessions-" + "s".repeat(80)).toString())
            .redirectError(tmp.resolve("driver-stderr.log").toFile())
            .redirectOutput(ProcessBuilder.Redirect.PIPE)
            .redirectInput(ProcessBuilder.Redirect.PIPE);
    driver = pb.start();
    Thread.ofPlatform()
        .daemon()
        .name("driver-stdout")
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(driver.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  driverOut.add(line);
                }
              } catch (IOException e) {
                // the driver is gone
              }
            });

    await("driver prints READY")
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(50))
        .failFast(
            "driver exited before READY",
            () ->
                assertThat(driver.isAlive())
                    .withFailMessage(
                        () ->
                            "driver exited with code "
                                + driver.exitValue()
                                + "; stderr tail:\n"
                                + stderrTail())
                    .isTrue())
        .until(() -> driverOut.stream().anyMatch(l -> l.startsWith("READY ")));
    long taskWorkerPid =
        Long.parseLong(
            driverOut.stream()
                .filter(l -> l.startsWith("READY "))
                .findFirst()
                .orElseThrow()
                .substring("READY ".length())
                .trim());

    List<ProcessHandle> found =
        driver
            .toHandle()
            .descendants()
            .filter(h -> ProcessCommandLine.of(h).orElse("").contains(WORKER_MAIN))
            .toList();
    workers.addAll(found);
    assertThat(found)
        .as("worker JVMs started by the driver (numCpus 2)")
        .hasSizeGreaterThanOrEqualTo(2);
    assertThat(found).extracting(ProcessHandle::pid).contains(taskWorkerPid);
    assertThat(found)
        .allSatisfy(
            h ->
                assertThat(h.parent().map(ProcessHandle::pid))
                    .as("worker %d is a direct child of the driver", h.pid())
                    .contains(driver.pid()));
    return found;
  }

  private String stderrTail() {
    try {
      List<String> lines = Files.readAllLines(tmp.resolve("driver-stderr.log"));
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no stderr: " + e + ")";
    }
  }

  /**
   * Whether the process still runs. A process that exited but was not reaped yet (a zombie,
   * possible once it is re-parented) has ended, even if {@link ProcessHandle#isAlive} says true.
   */
  private static boolean running(ProcessHandle h) {
    if (!h.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"));
      String afterName = stat.substring(stat.lastIndexOf(')') + 1).trim();
      return !afterName.startsWith("Z") && !afterName.startsWith("X");
    } catch (IOException | RuntimeException e) {
      return h.isAlive(); // no /proc: trust the JDK
    }
  }

  private static void awaitAllExited(List<ProcessHandle> procs, Duration limit) {
    await("every worker process exits by itself")
        .atMost(limit)
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(
            () ->
                assertThat(
                        procs.stream()
                            .filter(ProcessLifetimeTest::running)
                            .map(ProcessHandle::pid)
                            .toList())
                    .as("worker pids still running")
                    .isEmpty());
  }

  @Test
  void workersExitByThemselvesAfterTheirDriverIsKilledWithSigkill() throws Exception {
    List<ProcessHandle> found = startDriverAndAwaitWorkers();
    List<Path> socketDirs = SluiceTestSupport.socketDirectoriesOf(driver.pid());
    assertThat(socketDirs).as("the driver's node's short socket directory").hasSize(1);

    assertThat(driver.toHandle().destroyForcibly()).isTrue(); // SIGKILL: no shutdown hooks
    assertThat(driver.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(driver.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);

    awaitAllExited(found, WORKER_EXIT_LIMIT);
    // Rule: a killed node's short socket directory goes with its workers, as its store file does.
    assertThat(socketDirs).allSatisfy(d -> assertThat(d).doesNotExist());
  }

  @Test
  void workersExitAfterTheirDriverIsTerminatedWithSigterm() throws Exception {
    List<ProcessHandle> found = startDriverAndAwaitWorkers();

    driver.destroy(); // SIGTERM: the JVM runs its shutdown hooks
    assertThat(driver.waitFor(30, TimeUnit.SECONDS)).isTrue();

    awaitAllExited(found, WORKER_EXIT_LIMIT);
    assertThat(SluiceTestSupport.socketDirectoriesOf(driver.pid())).isEmpty();
  }

  @Test
  void gracefulDriverShutdownExitsZeroAndStopsItsWorkers() throws Exception {
    List<ProcessHandle> found = startDriverAndAwaitWorkers();

    OutputStream stdin = driver.getOutputStream();
    stdin.write("shutdown\n".getBytes(StandardCharsets.UTF_8));
    stdin.flush();

    assertThat(driver.waitFor(60, TimeUnit.SECONDS)).as("driver exits after shutdown").isTrue();
    assertThat(driver.exitValue()).as("driver exit code; stderr:\n%s", stderrTail()).isZero();
    await("driver output read")
        .atMost(Duration.ofSeconds(10))
        .until(() -> driverOut.contains("SHUTDOWN DONE"));

    awaitAllExited(found, WORKER_EXIT_LIMIT);
    assertThat(SluiceTestSupport.socketDirectoriesOf(driver.pid())).isEmpty();
  }
}
