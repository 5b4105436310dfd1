package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.generator.SharedCredit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rule checked (DESIGN "Shared credit"), on a real cluster: a stream with backpressure 16 whose
 * producer is on the driver's node reads its credit in the driver's shared-credit file, keeps at
 * most 16 items in flight and completes; switched off ({@code -Dsluice.generator.sharedCredit=
 * false} in the owner), the same stream takes replies alone, with the same bound, and no file is
 * made; the file is gone once the driver shut down. The session lives under a short root: the file
 * sits next to the driver's Unix socket, whose path must fit the kernel's 107 bytes.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SharedCreditTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int WINDOW = 16;
  private static final int ITEMS = 40;
  private static Path sessionRoot;

  @BeforeAll
  static void startCluster() throws IOException {
    sessionRoot = Files.createTempDirectory(Path.of("/tmp"), "slc");
    SluiceTestSupport.start(
        SluiceConfig.builder().numCpus(2).numWorkers(2).sessionRoot(sessionRoot).build());
  }

  @AfterAll
  static void stopCluster() throws IOException {
    try {
      SluiceTestSupport.stopAndAssertNoWorkers();
      assertThat(creditFiles()).as("the driver deletes its file when it shuts down").isEmpty();
    } finally {
      System.clearProperty(SharedCredit.ENABLED_PROPERTY);
      SluiceTestSupport.deleteTree(sessionRoot);
    }
  }

  private static List<Path> creditFiles() throws IOException {
    try (Stream<Path> all = Files.walk(sessionRoot)) {
      return all.filter(p -> p.getFileName().toString().endsWith(".credit")).toList();
    }
  }

  private static ObjectRefGenerator<Integer> recorded(Path dir, int items) {
    return Sluice.generator(GeneratorBackpressureTest::recorded, dir.toString(), items)
        .options(TaskOptions.builder().generatorBackpressureNumObjects(WINDOW).build())
        .remote();
  }

  @Test
  @Order(1)
  void switchedOffAStreamTakesRepliesAloneWithTheSameBound(@TempDir Path dir) throws IOException {
    System.setProperty(SharedCredit.ENABLED_PROPERTY, "false");
    try (ObjectRefGenerator<Integer> gen = recorded(dir, ITEMS)) {
      GeneratorBackpressureTest.consumeCheckingTheBound(gen, dir, WINDOW, false, ITEMS);
    } finally {
      System.clearProperty(SharedCredit.ENABLED_PROPERTY);
    }
    assertThat(creditFiles()).as("no slot was handed out").isEmpty();
  }

  @Test
  @Order(2)
  void aSameNodeStreamReadsSharedCreditKeepsAtMost16InFlightAndCompletes(@TempDir Path dir)
      throws IOException {
    try (ObjectRefGenerator<Integer> gen = recorded(dir, ITEMS)) {
      GeneratorBackpressureTest.consumeCheckingTheBound(gen, dir, WINDOW, false, ITEMS);
    }
    assertThat(creditFiles()).as("the driver's shared-credit file").hasSize(1);

    // A fast stream: the producer refills from the slot while the consumer takes items.
    int items = 20_000;
    int next = 0;
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(SharedCreditTest::range, items)
            .options(TaskOptions.builder().generatorBackpressureNumObjects(WINDOW).build())
            .remote()) {
      for (ObjectRef<Integer> ref : gen) {
        assertThat(ref.get(WAIT)).isEqualTo(next++);
      }
      assertThat(gen.completed().get(WAIT)).isNull();
    }
    assertThat(next).isEqualTo(items);
  }

  static Iterator<Integer> range(int n) {
    return IntStream.range(0, n).iterator();
  }
}
