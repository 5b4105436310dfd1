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
 * Sluice.kill}; an {@link ActorLifetime#OWNED} actor created by the same driver dies with it. A
 * detached actor whose creator is gone is restarted by the cluster while restarts are left (same id
 * and name, its constructor run again with the arguments it was created with), unless an argument
 * was an object its gone creator owned. The creating driver is its own JVM ({@link
 * DetachedActorDriverMain}, {@link DetachedRestartDriverMain}) on a {@link LocalCluster}; this
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

  /** The actor of the restart test: a count that starts at zero in each instance. */
  public static class Tally {
    private final String label;
    private int count;

    public Tally(String label) {
      this.label = label;
    }

    public int count() {
      return ++count;
    }

    public String label() {
      return label;
    }

    public long pid() {
      return ProcessHandle.current().pid();
    }

    public int halt() {
      Runtime.getRuntime().halt(1);
      return 0;
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
    startDriver(DetachedActorDriverMain.class, name);
  }

  private void startDriver(Class<?> main, String name) throws IOException {
    driver =
        SluiceTestSupport.startDriverProcess(
            cluster, tmp.resolve("driver-stderr.log"), driverOut, main, cluster.address(), name);
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
    SluiceTestSupport.start(cluster.driverConfig().build());
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

  @Test
  void aDetachedActorWhoseCreatorIsGoneIsRestartedByTheClusterUntilItsRestartsRunOut()
      throws Exception {
    String name = "detached-tally";
    startDriver(DetachedRestartDriverMain.class, name);
    String[] ready = readyLine().split(" ");
    long firstPid = Long.parseLong(ready[1]);
    long refPid = Long.parseLong(ready[2]);
    exitDriver();

    SluiceTestSupport.start(cluster.driverConfig().build());
    ActorHandle<Tally> tally = Sluice.getActor(name, Tally.class).orElseThrow();
    assertThat(tally.task(Tally::count).remote().get(WAIT))
        .as("the same instance: its count goes on")
        .isEqualTo(2);

    ObjectRef<Integer> halted = tally.task(Tally::halt).remote();
    awaitGone(firstPid, "the halted detached actor");
    assertThatThrownBy(() -> halted.get(WAIT))
        .as("the call in flight is not retried without maxTaskRetries")
        .isInstanceOf(ActorDiedException.class);

    assertThat(tally.task(Tally::count).remote().get(WAIT))
        .as("answered by a new instance, its state reset by the constructor")
        .isEqualTo(1);
    assertThat(tally.task(Tally::label).remote().get(WAIT))
        .as("constructed with the argument it was created with")
        .isEqualTo("from-value");
    long secondPid = tally.task(Tally::pid).remote().get(WAIT);
    assertThat(secondPid).isNotEqualTo(firstPid);
    assertThat(Sluice.getActor(name, Tally.class))
        .as("the same name names the same actor")
        .hasValueSatisfying(h -> assertThat(h.id()).isEqualTo(tally.id()));

    ObjectRef<Integer> haltedAgain = tally.task(Tally::halt).remote();
    awaitGone(secondPid, "the restarted detached actor, halted again");
    assertThatThrownBy(() -> haltedAgain.get(WAIT)).isInstanceOf(ActorDiedException.class);
    assertThatThrownBy(() -> tally.task(Tally::count).remote().get(WAIT))
        .as("no restarts left: dead")
        .isInstanceOfSatisfying(
            ActorDiedException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(ActorDiedException.Reason.PROCESS_DIED);
              assertThat(e.getMessage()).contains("no restarts left");
            });
    assertThat(Sluice.getActor(name, Tally.class)).isEmpty();

    ActorHandle<Tally> byRef = Sluice.getActor(name + "-ref", Tally.class).orElseThrow();
    ObjectRef<Integer> refHalted = byRef.task(Tally::halt).remote();
    awaitGone(refPid, "the halted detached actor built from an ObjectRef");
    assertThatThrownBy(() -> refHalted.get(WAIT)).isInstanceOf(ActorDiedException.class);
    assertThatThrownBy(() -> byRef.task(Tally::count).remote().get(WAIT))
        .as("its argument died with its creator: the restart fails, saying why")
        .isInstanceOfSatisfying(
            ActorDiedException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(ActorDiedException.Reason.CREATION_FAILED);
              assertThat(e.getMessage())
                  .contains(name + "-ref", "argument 1", "owned by its creator", "lost");
            });
  }

  private void exitDriver() throws IOException, InterruptedException {
    OutputStream in = driver.getOutputStream();
    in.write("exit\n".getBytes(StandardCharsets.UTF_8));
    in.flush();
    assertThat(driver.waitFor(60, TimeUnit.SECONDS)).as("the creating driver exited").isTrue();
  }
}
