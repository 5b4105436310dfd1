package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.common.ProcessCommandLine;
import dev.sluice.runtime.driver.EmbeddedCluster;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.NodeStatsReply;
import dev.sluice.runtime.rpc.proto.NodeStatsRequest;
import dev.sluice.runtime.rpc.proto.WorkerInfo;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Worker processes die for real here: the test kills worker JVMs with {@code SIGKILL} (or the task
 * halts its own JVM) and checks what the owner reports and that the node replaces them.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class WorkerFailureTest {
  private static final Duration GET_TIMEOUT = Duration.ofSeconds(90);
  private static final String WORKER_MAIN = SluiceTestSupport.WORKER_MAIN;

  @BeforeAll
  static void startCluster() {
    if (Sluice.isInitialized()) {
      Sluice.shutdown(); // another test class left a cluster behind; this class needs its own
    }
    Sluice.init(SluiceConfig.builder().numCpus(2).build());
  }

  @AfterAll
  static void stopClusterAndCheckNoWorkerIsLeft() {
    Sluice.shutdown();
    await("no worker JVM left after Sluice.shutdown()")
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(
            () ->
                assertThat(
                        ProcessHandle.current()
                            .descendants()
                            .filter(ProcessHandle::isAlive)
                            .filter(h -> ProcessCommandLine.of(h).orElse("").contains(WORKER_MAIN))
                            .map(ProcessHandle::pid)
                            .toList())
                    .isEmpty());
  }

  // ------------------------------------------------------------------ task functions

  /** Writes this worker's pid to {@code pidFile} (atomically), then sleeps for a minute. */
  static long writePidThenSleep(String pidFile) throws Exception {
    long pid = ProcessHandle.current().pid();
    writeAtomically(Path.of(pidFile), Long.toString(pid));
    Thread.sleep(60_000);
    return pid;
  }

  /**
   * Attempt 0 writes its pid and sleeps (to be killed); later attempts return at once with {pid,
   * attempt number}.
   */
  static long[] sleepOnFirstAttempt(String pidFile) throws Exception {
    int attempt = Sluice.runtimeContext().attemptNumber();
    long pid = ProcessHandle.current().pid();
    if (attempt == 0) {
      writeAtomically(Path.of(pidFile), Long.toString(pid));
      Thread.sleep(60_000);
    }
    return new long[] {pid, attempt};
  }

  /** Records attempt k as file "attempt-k" in {@code dir}, then halts this worker JVM. */
  static int haltEveryAttempt(String dir) throws Exception {
    int attempt = Sluice.runtimeContext().attemptNumber();
    Files.writeString(
        Path.of(dir).resolve("attempt-" + attempt), Long.toString(ProcessHandle.current().pid()));
    Runtime.getRuntime().halt(1);
    return attempt;
  }

  static long pidAfter(int millis) throws InterruptedException {
    Thread.sleep(millis);
    return ProcessHandle.current().pid();
  }

  private static void writeAtomically(Path target, String content) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
  }

  // ------------------------------------------------------------------ helpers

  private static long awaitPid(Path pidFile) {
    await("task wrote its worker pid to " + pidFile)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> Files.exists(pidFile));
    try {
      return Long.parseLong(Files.readString(pidFile).trim());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** Kills the worker with SIGKILL and waits until it is gone. */
  private static void killWorker(long pid) {
    ProcessHandle worker =
        ProcessHandle.of(pid)
            .orElseThrow(() -> new AssertionError("worker pid " + pid + " is not running"));
    assertThat(ProcessCommandLine.of(worker).orElse(""))
        .as("the pid the task reported belongs to a worker JVM")
        .contains(WORKER_MAIN);
    assertThat(worker.destroyForcibly()).isTrue();
    await("worker " + pid + " gone").atMost(Duration.ofSeconds(10)).until(() -> !worker.isAlive());
  }

  private static NodeStatsReply nodeStats() {
    EmbeddedCluster cluster = (EmbeddedCluster) Sluice.runtime();
    RpcFactory rpc = cluster.rpc();
    ManagedChannel ch = rpc.newChannel(cluster.nodeManager().target());
    try {
      return NodeManagerServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .getNodeStats(NodeStatsRequest.getDefaultInstance());
    } finally {
      RpcFactory.shutdownQuietly(ch);
    }
  }

  private static List<Long> liveWorkerPids() {
    return nodeStats().getWorkersList().stream()
        .filter(w -> w.getState().equals("IDLE") || w.getState().equals("LEASED"))
        .map(WorkerInfo::getPid)
        .toList();
  }

  // ------------------------------------------------------------------ tests

  @Test
  void killedWorkerWithoutRetriesFailsTheTaskWithWorkerCrashedNamingTaskFunctionAndWorker(
      @TempDir Path tmp) {
    Path pidFile = tmp.resolve("pid");
    ObjectRef<Long> ref =
        Sluice.task(WorkerFailureTest::writePidThenSleep, pidFile.toString())
            .options(TaskOptions.builder().maxRetries(0).build())
            .remote();
    long pid = awaitPid(pidFile);

    killWorker(pid);

    assertThatThrownBy(() -> ref.get(GET_TIMEOUT))
        .isInstanceOf(WorkerCrashedException.class)
        .hasMessageContaining(ref.id().taskId().hex())
        .hasMessageContaining("writePidThenSleep")
        .hasMessageContaining("pid " + pid)
        .hasMessageContaining("worker")
        .hasMessageContaining(Sluice.runtimeContext().nodeId().hex());
  }

  @Test
  void killedWorkerWithDefaultRetriesIsRetriedOnAFreshWorkerAndSucceeds(@TempDir Path tmp) {
    assertThat(TaskOptions.defaults().maxRetries()).isPositive();
    Path pidFile = tmp.resolve("pid");
    ObjectRef<long[]> ref =
        Sluice.task(WorkerFailureTest::sleepOnFirstAttempt, pidFile.toString()).remote();
    long killed = awaitPid(pidFile);

    killWorker(killed);

    long[] result = ref.get(GET_TIMEOUT);
    assertThat(result[0]).as("pid of the worker running the retry").isNotEqualTo(killed);
    assertThat(result[1]).as("attempt number of the retry").isEqualTo(1);
    assertThat(ProcessHandle.of(result[0])).as("the retry's worker is a live process").isPresent();
  }

  @Test
  void taskThatHaltsItsWorkerOnEveryAttemptFailsWithWorkerCrashedAfterAllRetries(
      @TempDir Path attempts) throws IOException {
    ObjectRef<Integer> ref =
        Sluice.task(WorkerFailureTest::haltEveryAttempt, attempts.toString())
            .options(TaskOptions.builder().maxRetries(2).build())
            .remote();

    assertThatThrownBy(() -> ref.get(GET_TIMEOUT))
        .isInstanceOf(WorkerCrashedException.class)
        .hasMessageContaining(ref.id().taskId().hex())
        .hasMessageContaining("haltEveryAttempt")
        .hasMessageContaining("attempt 2");

    try (Stream<Path> files = Files.list(attempts)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("attempt-0", "attempt-1", "attempt-2");
    }
    // Each attempt ran in a different worker process, as each halted its own.
    Set<String> pids = new HashSet<>();
    for (int k = 0; k < 3; k++) {
      pids.add(Files.readString(attempts.resolve("attempt-" + k)));
    }
    assertThat(pids).hasSize(3);
  }

  @Test
  void nodeReplacesAKilledWorkerAndTheRecoveredPoolRunsABatch(@TempDir Path tmp) {
    Path pidFile = tmp.resolve("pid");
    ObjectRef<Long> victim =
        Sluice.task(WorkerFailureTest::writePidThenSleep, pidFile.toString())
            .options(TaskOptions.builder().maxRetries(0).build())
            .remote();
    long killed = awaitPid(pidFile);

    killWorker(killed);
    assertThatThrownBy(() -> victim.get(GET_TIMEOUT)).isInstanceOf(WorkerCrashedException.class);

    // The node starts a replacement: the pool is back to its prestarted size, without the dead.
    await("node replaced the killed worker")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(
            () ->
                assertThat(liveWorkerPids())
                    .hasSizeGreaterThanOrEqualTo(2)
                    .doesNotContain(killed)
                    .allSatisfy(p -> assertThat(ProcessHandle.of(p)).isPresent()));

    List<ObjectRef<Long>> batch = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      batch.add(Sluice.task(WorkerFailureTest::pidAfter, 50).remote());
    }
    List<Long> pids = new ArrayList<>();
    for (ObjectRef<Long> r : batch) {
      pids.add(r.get(GET_TIMEOUT));
    }
    assertThat(pids).hasSize(20).doesNotContain(killed);
  }
}
