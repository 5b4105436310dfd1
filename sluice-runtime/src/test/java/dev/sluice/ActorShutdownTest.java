package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Rule: {@code Sluice.shutdown()} of an embedded cluster leaves no actor process behind, whatever
 * the actors' lifetimes, names, restarts or held CPUs.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ActorShutdownTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  @AfterAll
  static void noWorkerLeft() {
    if (Sluice.isInitialized()) {
      Sluice.shutdown();
    }
    SluiceTestSupport.awaitNoWorkerProcesses();
  }

  @Test
  void shutdownOfAnEmbeddedClusterLeavesNoActorProcessBehind() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(2).build());
    List<ActorOptions> options =
        List.of(
            ActorOptions.defaults(),
            ActorOptions.builder().name("shutdown-named").maxRestarts(-1).build(),
            ActorOptions.builder().lifetime(ActorLifetime.DETACHED).numCpus(1).build());
    List<ActorHandle<ActorTest.Counter>> actors = new ArrayList<>();
    for (ActorOptions o : options) {
      actors.add(Sluice.actor(ActorTest.Counter::new, 0).options(o).remote());
    }
    List<ProcessHandle> processes = new ArrayList<>();
    for (ActorHandle<ActorTest.Counter> a : actors) {
      long pid = a.task(ActorTest.Counter::pid).remote().get(WAIT);
      processes.add(ProcessHandle.of(pid).orElseThrow());
    }
    assertThat(processes).allMatch(ProcessHandle::isAlive);

    Sluice.shutdown();

    await("every actor process exits after shutdown()")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(
            () -> assertThat(processes.stream().filter(ProcessHandle::isAlive).toList()).isEmpty());
  }
}
