package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.daemon.LocalCluster;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rule: actor lifetimes across drivers. A {@link ActorLifetime#DETACHED} actor outlives the driver
 * that created it (a second driver finds it by name and calls it) and is stopped by {@code
 * Sluice.kill}; an {@link ActorLifetime#OWNED} actor created by the same driver dies with it. The
 * creating driver is its own JVM ({@link DetachedActorDriverMain}) on a {@link LocalCluster}; this
 * test's JVM is the second driver.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class DetachedActorTest {
  private static final Duration WAIT = Duration.ofSeconds(120);

  private static LocalCluster cluster;
  @TempDir static Path clusterRoot;
  @TempDir Path tmp;
  private Process driver;
  private final List<String> driverOut = new CopyOnWriteArrayList<>();

  /** The actor: holds a label. */
  public static class Box {
    private final String label;

    public Box(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    public long pid() {
      return ProcessHandle.current().pid();
    }
  }

  @BeforeAll
  static void startCluster() {
    cluster =
        LocalCluster.builder().nodes(1).cpusPerNode(2).workersPerNode(1).root(clusterRoot).start();
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

  private void startDriver(String name) throws IOException {
    driver =
        SluiceTestSupport.startDriverProcess(
            cluster,
            tmp.resolve("driver-stderr.log"),
            driverOut,
            DetachedActorDriverMain.class,
            cluster.address(),
            name);
    await("driver prints READY")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .failFast("driver exited", () -> !driver.isAlive() && readyLine() == null)
        .until(() -> readyLine() != null);
  }

  private String readyLine() {
    return driverOut.stream().filter(l -> l.startsWith("READY")).findFirst().orElse(null);
  }

  private static void awaitGone(long pid, String what) {
    await(what + " (pid " + pid + ") exits")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
  }

  @Test
  void aDetachedActorOutlivesItsCreatingDriverAndIsStoppedByKill() throws Exception {
    String name = "detached-box";
    startDriver(name);
    String[] ready = readyLine().split(" ");
    long detachedPid = Long.parseLong(ready[1]);
    long ownedPid = Long.parseLong(ready[2]);

    OutputStream in = driver.getOutputStream();
    in.write("exit\n".getBytes(StandardCharsets.UTF_8));
    in.flush();
    assertThat(driver.waitFor(60, TimeUnit.SECONDS)).as("the creating driver exited").isTrue();

    awaitGone(ownedPid, "the OWNED actor of the gone driver");
    Sluice.init(cluster.driverConfig().build());
    await("the OWNED actor's name is free once it died")
        .atMost(WAIT)
        .until(() -> Sluice.getActor(name + "-owned", Box.class).isEmpty());

    ActorHandle<Box> box = Sluice.getActor(name, Box.class).orElseThrow();
    assertThat(box.task(Box::label).remote().get(WAIT)).isEqualTo("kept");
    assertThat(box.task(Box::pid).remote().get(WAIT))
        .as("the same instance, never restarted")
        .isEqualTo(detachedPid);

    Sluice.kill(box);

    assertThatThrownBy(() -> box.task(Box::label).remote().get(WAIT))
        .isInstanceOfSatisfying(
            ActorDiedException.class,
            e -> assertThat(e.reason()).isEqualTo(ActorDiedException.Reason.KILLED));
    awaitGone(detachedPid, "the killed detached actor");
    assertThat(Sluice.getActor(name, Box.class)).isEmpty();
  }
}
