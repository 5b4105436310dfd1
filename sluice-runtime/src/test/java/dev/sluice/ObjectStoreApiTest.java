package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The object API: put, get (with and without timeout, single and list) and wait. */
@Timeout(120)
class ObjectStoreApiTest {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  /** Long-running tasks a test started; cancelled after it so the next test has free CPUs. */
  private final List<ObjectRef<?>> sleepers = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceTestSupport.twoCpus());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  @AfterEach
  void cancelSleepers() {
    for (ObjectRef<?> r : sleepers) {
      Sluice.cancel(r);
    }
    for (ObjectRef<?> r : sleepers) {
      // Bounded: a cancelled sleeper must finish (with TaskCancelledException) promptly.
      assertThat(catchThrowable(() -> r.get(LIMIT))).isInstanceOf(TaskCancelledException.class);
    }
  }

  // ------------------------------------------------------------------ task functions

  static String echoAfter(String value, long sleepMillis) throws InterruptedException {
    Thread.sleep(sleepMillis);
    return value;
  }

  static String sleepLong() throws InterruptedException {
    Thread.sleep(120_000);
    return "woke up";
  }

  static String fail() {
    throw new IllegalStateException("failed on purpose");
  }

  static int sumOf(Point p) {
    return p.x() + p.y();
  }

  record Point(int x, int y) {}

  /**
   * Starts a task that sleeps for 2 minutes (until cancelled). Sleepers have a resource shape of
   * their own, so they never share a lease (and a worker's queue) with the short tasks of a test:
   * these tests are about the object API, not about how tasks spread over workers.
   */
  private ObjectRef<String> sleeper() {
    ObjectRef<String> r =
        Sluice.task(ObjectStoreApiTest::sleepLong)
            .options(TaskOptions.builder().numCpus(0.9).build())
            .remote();
    sleepers.add(r);
    return r;
  }

  private static long millisSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  // ------------------------------------------------------------------ put / get

  @Test
  void putValuesComeBackUnchangedFromGet() {
    byte[] big = new byte[300 * 1024];
    Arrays.fill(big, (byte) 7);
    big[12345] = 1;
    List<Map<String, Integer>> nested = List.of(Map.of("a", 1), Map.of("b", 2, "c", 3));

    assertThat(Sluice.get(Sluice.put(42))).isEqualTo(42);
    assertThat(Sluice.put("hello").get()).isEqualTo("hello");
    assertThat(Sluice.get(Sluice.put(nested))).isEqualTo(nested);
    assertThat(Sluice.get(Sluice.put(new Point(3, 4)))).isEqualTo(new Point(3, 4));
    assertThat(Sluice.get(Sluice.put(new int[] {1, 2, 3}))).containsExactly(1, 2, 3);
    assertThat(Sluice.get(Sluice.put(big))).isEqualTo(big);
  }

  @Test
  void putValueCanBeGotRepeatedlyAndPassedToTasks() {
    ObjectRef<Point> ref = Sluice.put(new Point(20, 22));

    assertThat(ref.get()).isEqualTo(new Point(20, 22));
    assertThat(Sluice.get(ref, Duration.ZERO)).isEqualTo(new Point(20, 22));
    assertThat(Sluice.task(ObjectStoreApiTest::sumOf, ref).remote().get(LIMIT)).isEqualTo(42);
    assertThat(ref.get()).isEqualTo(new Point(20, 22));
  }

  @Test
  void getWithTimeoutThrowsGetTimeoutExceptionWhenTheValueIsLate() {
    ObjectRef<String> late = sleeper();

    long t0 = System.nanoTime();
    assertThatThrownBy(() -> late.get(Duration.ofMillis(300)))
        .isInstanceOf(GetTimeoutException.class);
    long elapsed = millisSince(t0);
    assertThat(elapsed).isBetween(250L, 20_000L);

    assertThatThrownBy(() -> Sluice.get(late, Duration.ofMillis(100)))
        .isInstanceOf(GetTimeoutException.class);
    // Timing out a get does not disturb the task: it is still running.
    assertThat(Sluice.wait(List.of(late), 1, Duration.ZERO).unready()).containsExactly(late);
  }

  @Test
  void getWithTimeoutReturnsAValueThatArrivesInTime() {
    ObjectRef<String> soon = Sluice.task(ObjectStoreApiTest::echoAfter, "soon", 300L).remote();
    assertThat(soon.get(LIMIT)).isEqualTo("soon");
  }

  @Test
  void getRejectsANegativeTimeout() {
    ObjectRef<Integer> ref = Sluice.put(1);
    assertThatThrownBy(() -> Sluice.get(ref, Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void getOfAListReturnsValuesInInputOrderNotCompletionOrder() {
    List<ObjectRef<String>> refs =
        List.of(
            Sluice.task(ObjectStoreApiTest::echoAfter, "first", 1_500L).remote(),
            Sluice.put("second"),
            Sluice.task(ObjectStoreApiTest::echoAfter, "third", 0L).remote(),
            Sluice.task(ObjectStoreApiTest::echoAfter, "fourth", 600L).remote());

    assertThat(Sluice.get(refs)).containsExactly("first", "second", "third", "fourth");
  }

  // ------------------------------------------------------------------ wait

  @Test
  void waitReportsReadyAndUnreadyInInputOrderAndNeverMoreThanNumReturns() {
    ObjectRef<String> fast3 = Sluice.task(ObjectStoreApiTest::echoAfter, "f3", 0L).remote();
    assertThat(fast3.get(LIMIT)).isEqualTo("f3");
    ObjectRef<String> slow0 = sleeper();
    ObjectRef<String> put1 = Sluice.put("p1");
    ObjectRef<String> put2 = Sluice.put("p2");
    ObjectRef<String> put4 = Sluice.put("p4");
    List<ObjectRef<String>> refs = List.of(slow0, put1, put2, fast3, put4);

    // Four are ready; only two may be reported, the first two in input order.
    WaitResult<String> two = Sluice.wait(refs, 2, LIMIT);
    assertThat(two.ready()).containsExactly(put1, put2);
    assertThat(two.unready()).containsExactly(slow0, fast3, put4);

    WaitResult<String> four = Sluice.wait(refs, 4, LIMIT);
    assertThat(four.ready()).containsExactly(put1, put2, fast3, put4);
    assertThat(four.unready()).containsExactly(slow0);
  }

  @Test
  void waitReturnsAsSoonAsNumReturnsAreReady() {
    ObjectRef<String> quick = Sluice.task(ObjectStoreApiTest::echoAfter, "quick", 300L).remote();
    ObjectRef<String> slow = sleeper();

    long t0 = System.nanoTime();
    WaitResult<String> r = Sluice.wait(List.of(slow, quick), 1, Duration.ofSeconds(100));

    assertThat(millisSince(t0)).isLessThan(60_000L);
    assertThat(r.ready()).containsExactly(quick);
    assertThat(r.unready()).containsExactly(slow);
  }

  @Test
  void waitThatTimesOutReturnsWhatIsReadySoFar() {
    ObjectRef<String> slowA = sleeper();
    ObjectRef<String> done = Sluice.put("done");
    // Not ready before slowA is: it needs slowA's value as its argument.
    ObjectRef<String> slowB = Sluice.task(ObjectStoreApiTest::echoAfter, slowA, 0L).remote();
    sleepers.add(slowB);

    long t0 = System.nanoTime();
    WaitResult<String> r = Sluice.wait(List.of(slowA, done, slowB), 3, Duration.ofMillis(500));
    long elapsed = millisSince(t0);

    assertThat(r.ready()).containsExactly(done);
    assertThat(r.unready()).containsExactly(slowA, slowB);
    assertThat(elapsed).isBetween(450L, 20_000L);
  }

  @Test
  void waitWithZeroTimeoutReportsTheCurrentStateWithoutBlocking() {
    ObjectRef<String> slow = sleeper();
    ObjectRef<String> done = Sluice.put("done");

    long t0 = System.nanoTime();
    WaitResult<String> both = Sluice.wait(List.of(slow, done), 2, Duration.ZERO);
    WaitResult<String> onlySlow = Sluice.wait(List.of(slow), 1, Duration.ZERO);
    long elapsed = millisSince(t0);

    assertThat(both.ready()).containsExactly(done);
    assertThat(both.unready()).containsExactly(slow);
    assertThat(onlySlow.ready()).isEmpty();
    assertThat(onlySlow.unready()).containsExactly(slow);
    assertThat(elapsed).isLessThan(2_000L);
  }

  @Test
  void waitCountsAFailedTaskAsReady() {
    ObjectRef<String> failed = Sluice.task(ObjectStoreApiTest::fail).remote();
    ObjectRef<String> slow = sleeper();

    WaitResult<String> r = Sluice.wait(List.of(slow, failed), 1, LIMIT);

    assertThat(r.ready()).containsExactly(failed);
    assertThat(r.unready()).containsExactly(slow);
    assertThatThrownBy(failed::get).isInstanceOf(TaskException.class);
  }

  @Test
  void waitRejectsNumReturnsOutsideOneToTheNumberOfRefs() {
    List<ObjectRef<String>> refs = List.of(Sluice.put("a"), Sluice.put("b"));

    for (int bad : new int[] {0, -1, 3}) {
      assertThatThrownBy(() -> Sluice.wait(refs, bad, LIMIT))
          .as("numReturns %d", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("numReturns");
    }
    assertThatThrownBy(() -> Sluice.wait(List.<ObjectRef<String>>of(), 1, LIMIT))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void waitRejectsTheSameRefTwice() {
    ObjectRef<String> a = Sluice.put("a");
    assertThatThrownBy(() -> Sluice.wait(List.of(a, a), 1, LIMIT))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
