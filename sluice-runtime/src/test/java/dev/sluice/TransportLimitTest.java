package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Values larger than the transport carries ({@link SluiceConfig#maxMessageBytes()}): every value
 * over the inline threshold travels through the node's shared-memory store instead, so the message
 * limit bounds only what travels inline.
 */
@Timeout(120)
class TransportLimitTest {
  private static final int LIMIT_BYTES = 1 << 20;
  private static final Duration LIMIT = Duration.ofSeconds(60);

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(2).maxMessageBytes(LIMIT_BYTES).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  static byte[] bytes(int size) {
    byte[] b = new byte[size];
    b[size - 1] = 42;
    return b;
  }

  static int length(byte[] b) {
    return b.length;
  }

  @Test
  void putOverTheTransportLimitIsStoredInSharedMemory() {
    ObjectRef<byte[]> ref = Sluice.put(bytes(2 << 20));
    assertThat(Sluice.objectStoreStats().sharedMemoryObjects()).isPositive();
    assertThat(ref.get(LIMIT)).hasSize(2 << 20).endsWith(42);
  }

  @Test
  void argumentOverTheTransportLimitTravelsThroughTheObjectStore() {
    assertThat(Sluice.task(TransportLimitTest::length, bytes(2 << 20)).remote().get(LIMIT))
        .isEqualTo(2 << 20);
  }

  @Test
  void returnValueOverTheTransportLimitTravelsThroughTheObjectStore() {
    ObjectRef<byte[]> ref = Sluice.task(TransportLimitTest::bytes, 3 << 20).remote();
    assertThat(ref.get(LIMIT)).hasSize(3 << 20).endsWith(42);
  }

  @Test
  void valuesJustUnderTheLimitTravelIntact() {
    int size = 700 * 1024;
    byte[] put = Sluice.put(bytes(size)).get(LIMIT);
    assertThat(put).hasSize(size);
    assertThat(put[size - 1]).isEqualTo((byte) 42);

    byte[] returned = Sluice.task(TransportLimitTest::bytes, size).remote().get(LIMIT);
    assertThat(returned).hasSize(size);
    assertThat(returned[size - 1]).isEqualTo((byte) 42);

    ObjectRef<byte[]> big = Sluice.put(bytes(size));
    assertThat(Sluice.task(TransportLimitTest::length, big).remote().get(LIMIT)).isEqualTo(size);
  }

  /**
   * Tasks of such a shape (distinct per test, so no lease of it is held yet) need over half the
   * node: they queue for one lease and are then pipelined to one worker together. No retries, so
   * that a transport failure shows at once.
   */
  private static TaskOptions oneWorkerNoRetries(double cpus) {
    return TaskOptions.builder().numCpus(cpus).maxRetries(0).build();
  }

  @Test
  void severalResultsEachUnderTheLimitArriveEvenWhenTheyTogetherExceedIt() {
    // Each result fits a message on its own; four of them do not fit one message together.
    int size = 700 * 1024;
    List<ObjectRef<byte[]>> refs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      refs.add(
          Sluice.task(TransportLimitTest::bytes, size).options(oneWorkerNoRetries(2)).remote());
    }
    for (ObjectRef<byte[]> r : refs) {
      assertThat(r.get(LIMIT)).hasSize(size);
    }
  }

  @Test
  void severalArgumentsEachUnderTheLimitArriveEvenWhenTheyTogetherExceedIt() {
    int size = 700 * 1024;
    List<ObjectRef<Integer>> refs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      refs.add(
          Sluice.task(TransportLimitTest::length, bytes(size))
              .options(oneWorkerNoRetries(1.5))
              .remote());
    }
    for (ObjectRef<Integer> r : refs) {
      assertThat(r.get(LIMIT)).isEqualTo(size);
    }
  }
}
