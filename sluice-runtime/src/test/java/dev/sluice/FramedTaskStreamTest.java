package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rule checked (DESIGN "FramedConnection"): a lease's task stream to a worker of the driver's own
 * node is framed on the worker's Unix domain socket, not gRPC, and carries tasks, generator items
 * with backpressure 1 and their credit; a worker that dies mid-task breaks the framed stream, which
 * fails the task in flight as a broken gRPC stream does, so the task is retried. The session lives
 * under a short root: a socket path must fit the kernel's 107 bytes, and target/ paths may not.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class FramedTaskStreamTest {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static Path sessionRoot;

  @BeforeAll
  static void startCluster() throws IOException {
    sessionRoot = Files.createTempDirectory(Path.of("/tmp"), "slf");
    SluiceTestSupport.start(
        SluiceConfig.builder().numCpus(2).numWorkers(2).sessionRoot(sessionRoot).build());
  }

  @AfterAll
  static void stopCluster() throws IOException {
    try {
      SluiceTestSupport.stopAndAssertNoWorkers();
    } finally {
      SluiceTestSupport.deleteTree(sessionRoot);
    }
  }

  static Integer twice(Integer i) {
    return 2 * i;
  }

  static Iterator<Integer> upTo(int n) {
    return IntStream.range(0, n).iterator();
  }

  /**
   * The first time (the marker file records it), waits for the file {@code gate}, then halts its
   * worker JVM; else returns 7.
   */
  static Integer haltsOnce(String marker, String gate) throws InterruptedException {
    if (SluiceTestSupport.createdNow(Path.of(marker))) {
      while (!Files.exists(Path.of(gate))) {
        Thread.sleep(5); // polling a condition, not a fixed wait
      }
      Runtime.getRuntime().halt(1);
    }
    return 7;
  }

  private static List<String> framedStreamThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .map(Thread::getName)
        .filter(n -> n.startsWith("sluice-frames-to-"))
        .toList();
  }

  @Test
  void tasksAndBackpressuredStreamsTravelOnAFramedStream() {
    tasksAndABackpressuredStreamGoFramed(500);
  }

  /**
   * Runs 200 tasks, checking the driver's lease streams are framed (their reader threads exist),
   * then a stream of {@code items} with backpressure 1, checking every item arrives in order.
   */
  static void tasksAndABackpressuredStreamGoFramed(int items) {
    boolean framedSeen = false;
    for (int i = 0; i < 200; i++) {
      assertThat(Sluice.task(FramedTaskStreamTest::twice, i).remote().get(WAIT)).isEqualTo(2 * i);
      // right after a reply the lease is still held (it is returned after 50 ms idle)
      framedSeen |= !framedStreamThreads().isEmpty();
    }
    assertThat(framedSeen).as("the driver's lease streams are framed").isTrue();

    List<Integer> got = new ArrayList<>();
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(FramedTaskStreamTest::upTo, items)
            .options(TaskOptions.builder().generatorBackpressureNumObjects(1).build())
            .remote()) {
      for (ObjectRef<Integer> ref : gen) {
        got.add(ref.get(WAIT));
      }
    }
    assertThat(got).isEqualTo(IntStream.range(0, items).boxed().toList());
  }

  @Test
  void aWorkerThatDiesMidTaskFailsItsFramedStreamAndTheTaskIsRetried(@TempDir Path markers)
      throws IOException {
    Path gate = markers.resolve("gate");
    ObjectRef<Integer> ref =
        Sluice.task(
                FramedTaskStreamTest::haltsOnce,
                markers.resolve("halted").toString(),
                gate.toString())
            .options(TaskOptions.builder().maxRetries(1).build())
            .remote();
    // the task is in flight on a framed stream when its worker dies
    await()
        .atMost(WAIT)
        .until(() -> Files.exists(markers.resolve("halted")) && !framedStreamThreads().isEmpty());
    Files.createFile(gate);

    assertThat(ref.get(WAIT)).isEqualTo(7);
  }
}
