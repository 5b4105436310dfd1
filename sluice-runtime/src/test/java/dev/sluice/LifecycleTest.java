package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** init, shutdown, and what the API does outside them. Each test manages its own cluster. */
@Timeout(120)
class LifecycleTest {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  @BeforeEach
  void noClusterRunning() {
    if (Sluice.isInitialized()) {
      Sluice.shutdown();
    }
  }

  @AfterEach
  void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  private static SluiceConfig oneCpu() {
    return SluiceConfig.builder().numCpus(1).build();
  }

  static int add(int a, int b) {
    return a + b;
  }

  static long pid() {
    return ProcessHandle.current().pid();
  }

  /** A ref that no runtime ever made: calls must fail on the missing runtime, not on the ref. */
  private static final ObjectRef<Integer> FOREIGN_REF =
      new ObjectRef<>() {
        @Override
        public Integer get() {
          return Sluice.get(this);
        }

        @Override
        public Integer get(Duration timeout) {
          return Sluice.get(this, timeout);
        }

        @Override
        public ObjectId id() {
          return ObjectId.of(TaskId.forDriver(JobId.fromBytes(new byte[JobId.LENGTH])), 1);
        }

        @Override
        public void release() {}
      };

  private static void assertNeedsInit(Executable call) {
    assertThatThrownBy(call::execute)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Sluice.init()");
  }

  @Test
  void apiCallsBeforeInitThrowIllegalStateExceptionAskingForInit() {
    assertThat(Sluice.isInitialized()).isFalse();

    assertNeedsInit(() -> Sluice.put(1));
    assertNeedsInit(() -> Sluice.task(LifecycleTest::add, 1, 2).remote());
    assertNeedsInit(() -> Sluice.get(FOREIGN_REF));
    assertNeedsInit(() -> Sluice.get(FOREIGN_REF, Duration.ofSeconds(1)));
    assertNeedsInit(() -> Sluice.get(List.of(FOREIGN_REF)));
    assertNeedsInit(() -> Sluice.wait(List.of(FOREIGN_REF), 1, Duration.ZERO));
    assertNeedsInit(() -> Sluice.cancel(FOREIGN_REF));
    assertNeedsInit(Sluice::runtimeContext);
  }

  @Test
  void initTwiceThrowsIllegalStateExceptionAndKeepsTheFirstClusterWorking() {
    Sluice.init(oneCpu());
    assertThat(Sluice.isInitialized()).isTrue();

    assertThatThrownBy(() -> Sluice.init(oneCpu()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already initialized");
    assertThatThrownBy(Sluice::init).isInstanceOf(IllegalStateException.class);

    assertThat(Sluice.task(LifecycleTest::add, 1, 2).remote().get(LIMIT)).isEqualTo(3);
  }

  @Test
  void shutdownIsIdempotentAndHarmlessWithoutInit() {
    assertThatCode(Sluice::shutdown).doesNotThrowAnyException();

    Sluice.init(oneCpu());
    Sluice.shutdown();
    assertThat(Sluice.isInitialized()).isFalse();
    assertThatCode(Sluice::shutdown).doesNotThrowAnyException();
    assertThatCode(Sluice::shutdown).doesNotThrowAnyException();
  }

  @Test
  void shutdownStopsEveryWorkerProcessItStarted() {
    Sluice.init(oneCpu());
    long workerPid = Sluice.task(LifecycleTest::pid).remote().get(LIMIT);
    assertThat(SluiceTestSupport.workerPids()).contains(workerPid);
    ProcessHandle worker = ProcessHandle.of(workerPid).orElseThrow();

    Sluice.shutdown();

    await("worker " + workerPid + " exits")
        .atMost(Duration.ofSeconds(15))
        .until(() -> !worker.isAlive());
    SluiceTestSupport.awaitNoWorkerProcesses();
  }

  @Test
  void refsFromAStoppedClusterFailWithIllegalStateException() {
    Sluice.init(oneCpu());
    ObjectRef<Integer> ref = Sluice.put(5);
    assertThat(ref.get(LIMIT)).isEqualTo(5);

    Sluice.shutdown();

    assertNeedsInit(ref::get);
    assertNeedsInit(() -> Sluice.get(ref, Duration.ZERO));
    assertNeedsInit(() -> Sluice.task(LifecycleTest::add, ref, 1).remote());
  }

  @Test
  void aBufferStillOpenAtShutdownFailsItsReadsInsteadOfReadingUnmappedMemory() {
    Sluice.init(oneCpu());
    ObjectBuffer buf = Sluice.getBuffer(Sluice.put(new byte[1 << 20]), LIMIT);
    assertThat(buf.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4096)).isZero();

    Sluice.shutdown();

    assertThatThrownBy(() -> buf.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4096))
        .isInstanceOf(IllegalStateException.class);
    assertThatCode(buf::close).doesNotThrowAnyException();
  }

  @Test
  void sluiceCanBeInitializedAgainAfterShutdown() {
    Sluice.init(oneCpu());
    assertThat(Sluice.task(LifecycleTest::add, 1, 1).remote().get(LIMIT)).isEqualTo(2);
    Sluice.shutdown();

    Sluice.init(oneCpu());
    assertThat(Sluice.isInitialized()).isTrue();
    assertThat(Sluice.task(LifecycleTest::add, 2, 2).remote().get(LIMIT)).isEqualTo(4);
  }

  @Test
  void anObjectStoreDirectoryThatCannotBeCreatedStopsInitNamingIt(@TempDir Path dir)
      throws IOException {
    Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
    Path bad = file.resolve("shm");
    assertThatThrownBy(
            () -> Sluice.init(SluiceConfig.builder().numCpus(1).objectStoreDirectory(bad).build()))
        .isInstanceOf(RuntimeStartupException.class)
        .hasMessageContaining(bad.toString());
    assertThat(Sluice.isInitialized()).isFalse();
    assertThat(SluiceTestSupport.workerPids()).as("no worker started").isEmpty();
  }
}
