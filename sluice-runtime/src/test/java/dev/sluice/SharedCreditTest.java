package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.runtime.generator.SharedCredit;
import dev.sluice.runtime.generator.SharedItems;
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
 * Rules checked (DESIGN "Shared credit" and "Shared items"), on a real cluster: a stream with
 * backpressure 16 whose producer is on the driver's node reads its credit in the driver's
 * shared-credit file, keeps at most 16 items in flight and completes; switched off ({@code
 * -Dsluice.generator.sharedCredit= false} in the owner), the same stream takes replies alone, with
 * the same bound, and no file is made; the file is gone once the driver shut down. A fast stream's
 * items travel through the item ring (and switched off, {@code
 * -Dsluice.generator.sharedItems=false}, none do), and a stream closed while its items go through
 * the ring still lets its task finish. The session lives under a short root: the file sits next to
 * the driver's Unix socket, whose path must fit the kernel's 107 bytes.
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
      System.clearProperty(SharedItems.ENABLED_PROPERTY);
      SluiceTestSupport.deleteTree(sessionRoot);
    }
  }

  private static List<Path> creditFiles() throws IOException {
    return files(".credit");
  }

  private static List<Path> files(String suffix) throws IOException {
    try (Stream<Path> all = Files.walk(sessionRoot)) {
      return all.filter(p -> p.getFileName().toString().endsWith(suffix)).toList();
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

    // A fast stream: the producer refills from the slot while the consumer takes items, which
    // come through the ring while the consumer spins for them.
    long takenBefore = SharedItems.itemsTaken();
    assertThat(fastStream(20_000)).isEqualTo(20_000);
    assertThat(SharedItems.itemsTaken() - takenBefore).as("items taken from the ring").isPositive();
    assertThat(files(".items")).as("the driver's item rings").hasSize(1);
  }

  @Test
  @Order(3)
  void aStreamClosedWhileItsItemsGoThroughTheRingLetsItsTaskFinish() {
    ObjectRef<Void> done;
    long takenBefore = SharedItems.itemsTaken();
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(SharedCreditTest::range, 1_000_000)
            .options(TaskOptions.builder().generatorBackpressureNumObjects(WINDOW).build())
            .remote()) {
      int next = 0;
      for (ObjectRef<Integer> ref : gen) {
        assertThat(ref.get(WAIT)).isEqualTo(next++);
        if (next == 5_000) {
          break;
        }
      }
      done = gen.completed();
    }
    assertThat(SharedItems.itemsTaken() - takenBefore).isPositive();
    // The producer learns the stream is gone from "not found" and runs to its end.
    assertThat(done.get(WAIT)).isNull();
    assertThat(fastStream(1_000)).as("the cluster streams on").isEqualTo(1_000);
  }

  @Test
  @Order(4)
  void switchedOffNoItemGoesThroughARing() {
    System.setProperty(SharedItems.ENABLED_PROPERTY, "false");
    try {
      long takenBefore = SharedItems.itemsTaken();
      assertThat(fastStream(5_000)).isEqualTo(5_000);
      assertThat(SharedItems.itemsTaken()).isEqualTo(takenBefore);
    } finally {
      System.clearProperty(SharedItems.ENABLED_PROPERTY);
    }
  }

  /** Streams {@code items} ints with backpressure 16, checking each; the count taken. */
  private static int fastStream(int items) {
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
    return next;
  }

  static Iterator<Integer> range(int n) {
    return IntStream.range(0, n).iterator();
  }
}
