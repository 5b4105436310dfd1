package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.daemon.LocalCluster;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.RpcSecurity;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsReply;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsRequest;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Rule: owner death frees its objects. When a cluster driver shuts down, exits or is killed, every
 * node's store frees the objects of its job within seconds: its puts on its own node, and on
 * another node the objects produced there for it and the copy pulled there. A killed embedded
 * driver's shared-memory store file is removed by its workers as they exit.
 *
 * <p>Drivers are separate JVMs ({@link OwnedObjectsDriverMain}, {@link LifetimeDriverMain}).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class OwnerDeathTest {
  private static final Duration START = Duration.ofSeconds(120);

  /** "Within seconds", with room for a loaded machine. */
  private static final Duration FREED = Duration.ofSeconds(30);

  private static final long MIB = 1 << 20;

  private static LocalCluster cluster;
  private static RpcFactory rpc;
  @TempDir static Path clusterRoot;
  @TempDir Path tmp;
  private Process driver;
  private final List<String> driverOut = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startCluster() {
    cluster =
        LocalCluster.builder().nodes(2).cpusPerNode(2).workersPerNode(1).root(clusterRoot).start();
    rpc = new RpcFactory(64 << 20, RpcSecurity.token(cluster.token()));
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopDriverAndCluster(cluster);
  }

  @AfterEach
  void killDriver() throws InterruptedException {
    if (driver != null && driver.isAlive()) {
      driver.destroyForcibly();
      driver.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private record Usage(long used, long objects) {}

  private static Usage usage(LocalCluster.Node node) {
    ManagedChannel ch = rpc.newChannel(node.nodeManagerTarget());
    try {
      ObjectStoreStatsReply r =
          NodeManagerServiceGrpc.newBlockingStub(ch)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .getObjectStoreStats(ObjectStoreStatsRequest.getDefaultInstance());
      return new Usage(r.getUsed(), r.getObjects());
    } finally {
      RpcFactory.shutdownQuietly(ch);
    }
  }

  /** Starts {@code main} with {@code args} in its own JVM and waits for its READY line. */
  private void startDriver(Class<?> main, String... args) throws IOException {
    driver =
        SluiceTestSupport.startDriverProcess(
            cluster, tmp.resolve("driver-stderr.log"), driverOut, main, args);
    awaitLine("READY", START);
  }

  private void awaitLine(String prefix, Duration atMost) {
    await("driver prints " + prefix)
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(50))
        .failFast(
            "driver exited",
            () -> !driver.isAlive() && driverOut.stream().noneMatch(l -> l.startsWith(prefix)))
        .until(() -> driverOut.stream().anyMatch(l -> l.startsWith(prefix)));
  }

  private void tell(String line) throws IOException {
    OutputStream in = driver.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  @ParameterizedTest(name = "driver {0}")
  @ValueSource(strings = {"shutdown", "exit", "kill"})
  void theObjectsOfAGoneClusterDriverAreFreedOnEveryNode(String how) throws Exception {
    LocalCluster.Node head = cluster.head();
    LocalCluster.Node other = cluster.nodes().get(1);
    Usage headBase = usage(head);
    Usage otherBase = usage(other);

    startDriver(OwnedObjectsDriverMain.class, cluster.address(), other.nodeId().hex());
    assertThat(usage(head).used())
        .as("the driver's 10 puts on its node")
        .isGreaterThanOrEqualTo(headBase.used() + 10 * MIB);
    assertThat(usage(other).used())
        .as("3 objects produced and one pulled on the other node")
        .isGreaterThanOrEqualTo(otherBase.used() + 4 * MIB);

    switch (how) {
      case "shutdown" -> {
        tell("shutdown");
        awaitLine("SHUT DOWN", FREED);
      }
      case "exit" -> tell("exit");
      default -> driver.destroyForcibly();
    }
    await("every node's store is back to its baseline")
        .atMost(FREED)
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(
            () -> {
              assertThat(usage(head)).as("head").isEqualTo(headBase);
              assertThat(usage(other)).as("other node").isEqualTo(otherBase);
            });
    if (how.equals("shutdown")) {
      assertThat(driver.isAlive()).as("freed by shutdown(), not by the process exiting").isTrue();
      driver.getOutputStream().close();
    }
    assertThat(driver.waitFor(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aKilledEmbeddedDriversStoreFileIsRemovedOnceItsWorkersExit() throws Exception {
    startDriver(LifetimeDriverMain.class, tmp.resolve("sessions").toString());
    String suffix = "-" + driver.pid();
    List<Path> storeFiles;
    try (Stream<Path> shm = Files.list(Path.of("/dev/shm"))) {
      storeFiles =
          shm.filter(
                  p ->
                      p.getFileName().toString().startsWith("sluice-")
                          && (p.getFileName().toString().endsWith(suffix)
                              || p.getFileName().toString().endsWith(suffix + ".extents")))
              .toList();
    }
    assertThat(storeFiles).as("the driver's store file and extent table").hasSize(2);
    List<ProcessHandle> workers = driver.toHandle().descendants().toList();
    assertThat(workers).as("the driver's workers").isNotEmpty();

    driver.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    await("the killed driver's workers exit")
        .atMost(FREED)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> workers.stream().noneMatch(ProcessHandle::isAlive));
    await("the store file is removed")
        .atMost(FREED)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> storeFiles.stream().noneMatch(Files::exists));
  }
}
