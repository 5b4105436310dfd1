package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.common.ProcessCommandLine;
import dev.sluice.runtime.daemon.LocalCluster;
import dev.sluice.runtime.node.ClassPathResolver;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.SocketDirectory;
import dev.sluice.runtime.worker.WorkerMain;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Shared plumbing of the cluster tests: starting Sluice once per test class, stopping it and
 * checking that no worker JVM outlives it, and small task helpers (marker files, sleeps).
 *
 * <p>Sluice is a process-wide singleton, so test classes run one after another in one JVM; each
 * class starts its cluster in {@code @BeforeAll} and stops it in {@code @AfterAll}.
 */
public final class SluiceTestSupport {
  /** Main class of a worker JVM, as it appears on its command line. */
  public static final String WORKER_MAIN = WorkerMain.class.getName();

  private SluiceTestSupport() {}

  /** The default test cluster: an embedded node with 2 CPUs (and so 2 prestarted workers). */
  public static SluiceConfig twoCpus() {
    return SluiceConfig.builder().numCpus(2).build();
  }

  /** Starts a cluster; a leftover one from a failed class is shut down first. */
  public static void start(SluiceConfig config) {
    if (Sluice.isInitialized()) {
      Sluice.shutdown();
    }
    Sluice.init(config);
  }

  /**
   * Shuts the cluster down and asserts that every worker process it started is gone, and the short
   * socket directory its node made, if any.
   */
  /** Deletes {@code root} and everything under it, if it exists. */
  public static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  public static void stopAndAssertNoWorkers() {
    Sluice.shutdown();
    awaitNoWorkerProcesses();
    assertThat(socketDirectoriesOf(ProcessHandle.current().pid()))
        .as("short socket directories left by this JVM's nodes")
        .isEmpty();
  }

  /**
   * The short socket directories made by nodes of process {@code pid} ({@link SocketDirectory}).
   */
  public static List<Path> socketDirectoriesOf(long pid) {
    try (Stream<Path> all = Files.list(SocketDirectory.SHORT_ROOT)) {
      return all.filter(
              p -> p.getFileName().toString().startsWith(SocketDirectory.SHORT_PREFIX + pid + "-"))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Shuts down a driver joined to {@code cluster} (if it is still up), stops the cluster and
   * asserts that none of its processes is left.
   */
  public static void stopDriverAndCluster(LocalCluster cluster) {
    List<Long> daemons =
        cluster == null ? List.of() : cluster.nodes().stream().map(LocalCluster.Node::pid).toList();
    try {
      if (Sluice.isInitialized()) {
        Sluice.shutdown();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
    awaitNoWorkerProcesses();
    for (long pid : daemons) {
      assertThat(socketDirectoriesOf(pid))
          .as("short socket directories left by the node daemon %d", pid)
          .isEmpty();
    }
  }

  /** Waits (bounded) until no worker JVM descends from this process. */
  public static void awaitNoWorkerProcesses() {
    await("no worker process left after Sluice.shutdown()")
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(workerPids()).isEmpty());
  }

  /** Pids of the live worker JVMs descending from this process. */
  public static List<Long> workerPids() {
    return ProcessHandle.current()
        .descendants()
        .filter(ProcessHandle::isAlive)
        .filter(SluiceTestSupport::isWorker)
        .map(ProcessHandle::pid)
        .toList();
  }

  private static boolean isWorker(ProcessHandle p) {
    return ProcessCommandLine.of(p).map(c -> c.contains(WORKER_MAIN)).orElse(false);
  }

  /**
   * Creates the marker file {@code marker}; true if this call created it, false if it existed (how
   * a task does something once across its retries).
   */
  public static boolean createdNow(Path marker) {
    try {
      Files.createFile(marker);
      return true;
    } catch (java.nio.file.FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Creates {@code path} (a marker a task leaves to show it ran). */
  public static void touch(String path) {
    try {
      Files.writeString(Path.of(path), "ran in pid " + ProcessHandle.current().pid());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts {@code main} with {@code args} as a driver JVM of its own against {@code cluster} (its
   * token in the environment), its standard error in {@code stderr}, every line it prints added to
   * {@code out} by a reader thread.
   */
  public static Process startDriverProcess(
      LocalCluster cluster, Path stderr, List<String> out, Class<?> main, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(ClassPathResolver.join(ClassPathResolver.effectiveClassPath()));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.PIPE)
            .redirectInput(ProcessBuilder.Redirect.PIPE);
    pb.environment().put(RpcSecurity.TOKEN_ENV_VAR, cluster.token());
    Process p = pb.start();
    Thread.ofPlatform()
        .daemon()
        .name("driver-stdout")
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  out.add(line);
                }
              } catch (IOException e) {
                // the driver is gone
              }
            });
    return p;
  }
}
