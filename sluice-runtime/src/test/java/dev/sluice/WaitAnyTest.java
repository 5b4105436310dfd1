package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Sluice#waitAny}: waiting on a mix of refs and generators, as Ray's wait does. */
class WaitAnyTest {
  @TempDir static Path dir;

  @BeforeAll
  static void start() {
    Sluice.init(SluiceConfig.builder().numCpus(2).build());
  }

  @AfterAll
  static void stop() {
    Sluice.shutdown();
  }

  static int waitForFile(String path) throws InterruptedException {
    while (!Files.exists(Path.of(path))) {
      Thread.sleep(10);
    }
    return 1;
  }

  /** Yields nothing until {@code path} exists, then one item. */
  static Iterator<Integer> gated(String path) throws InterruptedException {
    waitForFile(path);
    return List.of(42).iterator();
  }

  @Test
  void aGeneratorIsReadyWhenItsNextItemIsKnownAndARefWhenItsValueIs() throws Exception {
    Path genGate = dir.resolve("gen-gate");
    Path refGate = dir.resolve("ref-gate");
    ObjectRefGenerator<Integer> gen =
        Sluice.generator(WaitAnyTest::gated, genGate.toString()).remote();
    ObjectRef<Integer> ref = Sluice.task(WaitAnyTest::waitForFile, refGate.toString()).remote();
    List<Awaitable> both = List.of(gen, ref);

    AwaitResult<Awaitable> none = Sluice.waitAny(both, 1, Duration.ofMillis(50));
    assertThat(none.ready()).isEmpty();
    assertThat(none.unready()).containsExactly(gen, ref);

    Files.createFile(genGate);
    AwaitResult<Awaitable> first = Sluice.waitAny(both, 1, Duration.ofSeconds(60));
    assertThat(first.ready()).containsExactly(gen);
    assertThat(first.unready()).containsExactly(ref);
    assertThat(gen.nextReady()).isTrue();
    assertThat(gen.next().get()).as("waiting consumed nothing").isEqualTo(42);

    Files.createFile(refGate);
    AwaitResult<Awaitable> all = Sluice.waitAny(both, 2, Duration.ofSeconds(60));
    assertThat(all.ready()).as("the generator's end is known too").containsExactly(gen, ref);
    assertThat(gen.hasNext()).isFalse();
    gen.close();
  }

  @Test
  void invalidArgumentsAreRejected() {
    ObjectRef<Integer> ref = Sluice.put(1);
    assertThatThrownBy(() -> Sluice.waitAny(List.of(ref), 2, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("numReturns");
    assertThatThrownBy(() -> Sluice.waitAny(List.of(ref, ref), 1, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("more than once");
  }
}
