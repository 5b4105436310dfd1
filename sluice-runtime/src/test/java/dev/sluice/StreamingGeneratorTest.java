package dev.sluice;

import static dev.sluice.GeneratorTestFiles.exists;
import static dev.sluice.GeneratorTestFiles.touch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.GeneratorTestFiles.GatedIterator;
import dev.sluice.GeneratorTestFiles.OnRequestPublisher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streaming generator tasks end to end, on a real cluster with worker JVMs: ordering and
 * exactly-once delivery, items available while the task runs, item ids, how application errors
 * travel in the stream, the consumer API ({@code next(Duration)}, {@code nextAsync()}, {@code
 * nextReady()}), closing of {@link AutoCloseable} iterators, async generators, nested and
 * concurrent streams, and unserializable items.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class StreamingGeneratorTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(2).build());
    GeneratorTestFiles.awaitIdleWorkers(2);
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  // ------------------------------------------------------------------ generator functions

  static Iterator<Integer> numbers(int n) {
    return IntStream.range(0, n).iterator();
  }

  /** Yields 0..n-1, item k only once the test created go-k; ends once go-n exists. */
  static Iterator<Integer> gated(String dir, int n) {
    return new GatedIterator(Path.of(dir), n);
  }

  /** Yields 0..k-1, then throws. */
  static Iterator<Integer> failAfter(int k) {
    return IntStream.rangeClosed(0, k)
        .map(
            i -> {
              if (i == k) {
                throw new IllegalStateException("boom after " + k + " items");
              }
              return i;
            })
        .iterator();
  }

  /** Throws before it has an iterator to return. */
  static Iterator<Integer> throwsBeforeReturning(String message) {
    throw new IllegalArgumentException(message);
  }

  /**
   * An {@link AutoCloseable} iterator of 0..n-1 that throws at index {@code failAt} (if in range)
   * and whose close() creates "closed" in dir.
   */
  static Iterator<Integer> closeable(String dir, int n, int failAt) {
    return new CloseableRange(Path.of(dir), n, failAt);
  }

  static final class CloseableRange implements Iterator<Integer>, AutoCloseable {
    private final Path dir;
    private final int n;
    private final int failAt;
    private int k;

    CloseableRange(Path dir, int n, int failAt) {
      this.dir = dir;
      this.n = n;
      this.failAt = failAt;
    }

    @Override
    public boolean hasNext() {
      return k < n;
    }

    @Override
    public Integer next() {
      if (k == failAt) {
        throw new IllegalStateException("closeable range fails at " + k);
      }
      return k++;
    }

    @Override
    public void close() {
      touch(dir, "closed");
    }
  }

  /** A JDK SubmissionPublisher fed 0..n-1 by a thread of its own. */
  static Flow.Publisher<Integer> submissionPublisher(int n) {
    return subscriber -> {
      SubmissionPublisher<Integer> p = new SubmissionPublisher<>();
      p.subscribe(subscriber);
      Thread.ofPlatform()
          .daemon()
          .name("feeder")
          .start(
              () -> {
                for (int i = 0; i < n; i++) {
                  p.submit(i);
                }
                p.close();
              });
    };
  }

  /** A hand-written publisher of 0..n-1 that emits only what was requested. */
  static Flow.Publisher<Integer> onRequestPublisher(int n) {
    return new OnRequestPublisher(n, null);
  }

  /** A hand-written publisher of 0..n-1 that signals onError instead of item failAt. */
  static Flow.Publisher<Integer> publisherFailingAt(int n, int failAt) {
    return new OnRequestPublisher(n, null, failAt, -1);
  }

  /** Returns null instead of an iterator. */
  static Iterator<Integer> returnsNull() {
    return null;
  }

  /** 1, null, 3. */
  static Iterator<Integer> withNullItem() {
    return Arrays.asList(1, null, 3).iterator();
  }

  /** n byte arrays of {@code size} bytes, item k filled with (byte) k. */
  static Iterator<byte[]> chunks(int n, int size) {
    return IntStream.range(0, n)
        .mapToObj(
            k -> {
              byte[] b = new byte[size];
              Arrays.fill(b, (byte) k);
              return b;
            })
        .iterator();
  }

  /** A normal task that consumes a generator of its own and returns the sum of the items. */
  static long sumOfNestedStream(int n) {
    long sum = 0;
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::numbers, n).remote()) {
      for (ObjectRef<Integer> ref : gen) {
        sum += ref.get();
      }
    }
    return sum;
  }

  /** Yields stream * 1_000_000 + k for k in 0..n-1. */
  static Iterator<Long> tagged(int stream, int n) {
    return LongStream.range(0, n).map(k -> stream * 1_000_000L + k).iterator();
  }

  /** "a", then a value that cannot be serialized (a Thread), then "c". */
  static Iterator<Object> withUnserializableItem() {
    return List.<Object>of("a", new Thread(() -> {}), "c").iterator();
  }

  // ------------------------------------------------------------------ helpers

  private static <T> List<T> drain(ObjectRefGenerator<T> gen) {
    List<T> out = new ArrayList<>();
    for (ObjectRef<T> ref : gen) {
      out.add(ref.get(WAIT));
    }
    return out;
  }

  private static List<Integer> range(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  private static void assertEnded(ObjectRefGenerator<?> gen) {
    assertThat(gen.hasNext()).isFalse();
    assertThatThrownBy(gen::next).isInstanceOf(NoSuchElementException.class);
    assertThat(gen.isFinished()).isTrue();
  }

  // ------------------------------------------------------------------ tests

  @Test
  void thousandItemsArriveInYieldOrderEachExactlyOnce() {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::numbers, 1000).remote()) {
      int expected = 0;
      while (gen.hasNext()) {
        ObjectRef<Integer> ref = gen.next();
        assertThat(ref.get(WAIT)).as("item %d", expected).isEqualTo(expected);
        expected++;
      }
      assertThat(expected).isEqualTo(1000);
      assertEnded(gen);
      assertThat(gen.completed().get(WAIT)).isNull();
    }
  }

  @Test
  void generatorIsReturnedAtOnceAndFirstItemIsConsumableWhileTheTaskStillRuns(@TempDir Path dir) {
    // Nothing can be produced before go-0 exists: remote() must not wait for the task.
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::gated, dir.toString(), 2).remote()) {
      assertThat(gen.nextReady()).isFalse();
      assertThat(gen.isFinished()).isFalse();

      touch(dir, "go-0");
      ObjectRef<Integer> first = gen.next();
      assertThat(first.get(WAIT)).isZero();

      // The task is blocked before item 1: it has not completed.
      ObjectRef<Void> completed = gen.completed();
      assertThat(Sluice.wait(List.of(completed), 1, Duration.ZERO).unready())
          .containsExactly(completed);
      assertThatThrownBy(() -> completed.get(Duration.ofMillis(200)))
          .isInstanceOf(GetTimeoutException.class);
      assertThat(gen.nextReady()).isFalse();

      touch(dir, "go-1");
      touch(dir, "go-2");
      assertThat(gen.next().get(WAIT)).isEqualTo(1);
      assertEnded(gen);
      assertThat(completed.get(WAIT)).isNull();
      assertThat(Sluice.wait(List.of(completed), 1, Duration.ZERO).ready())
          .containsExactly(completed);
    }
  }

  @Test
  void itemRefsHaveIdsOfTheGeneratorTaskAtIndexTwoPlusYieldIndex() {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::numbers, 5).remote()) {
      TaskId task = gen.id().taskId();
      assertThat(gen.id()).isEqualTo(ObjectId.of(task, 1));
      assertThat(gen.id().index()).isEqualTo(1);
      assertThat(gen.completed().id()).isEqualTo(gen.id());
      int k = 0;
      for (ObjectRef<Integer> ref : gen) {
        assertThat(ref.id().taskId()).isEqualTo(task);
        assertThat(ref.id().index()).isEqualTo(2 + k);
        assertThat(ref.id()).isEqualTo(ObjectId.of(task, 2 + k));
        assertThat(ref.get(WAIT)).isEqualTo(k);
        k++;
      }
      assertThat(k).isEqualTo(5);
    }
  }

  @Test
  void applicationExceptionAfterKItemsGivesKRefsThenOneErrorRefThenTheEndAndTaskCompletes() {
    int k = 3;
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::failAfter, k).remote()) {
      for (int i = 0; i < k; i++) {
        assertThat(gen.next().get(WAIT)).isEqualTo(i);
      }
      ObjectRef<Integer> error = gen.next();
      assertThat(error.id()).isEqualTo(ObjectId.of(gen.id().taskId(), 2 + k));
      assertThatThrownBy(() -> error.get(WAIT))
          .isInstanceOf(TaskException.class)
          .hasMessageContaining("failAfter")
          .cause()
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("boom after 3 items");
      assertEnded(gen);
      // The error travelled in the stream; the task as a whole ended normally.
      assertThat(gen.completed().get(WAIT)).isNull();
    }
  }

  @Test
  void generatorFunctionThrowingBeforeReturningAnIteratorGivesOneErrorRefThenTheEnd() {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::throwsBeforeReturning, "no iterator for you")
            .remote()) {
      ObjectRef<Integer> first = gen.next();
      assertThat(first.id()).isEqualTo(ObjectId.of(gen.id().taskId(), 2));
      assertThatThrownBy(() -> first.get(WAIT))
          .isInstanceOf(TaskException.class)
          .cause()
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("no iterator for you");
      assertEnded(gen);
      assertThat(gen.completed().get(WAIT)).isNull();
    }
  }

  @Test
  void nextWithTimeoutReturnsEmptyWhenNothingArrivesAndConsumesNothing(@TempDir Path dir) {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::gated, dir.toString(), 1).remote()) {
      assertThat(gen.next(Duration.ofMillis(300))).isEmpty();
      assertThat(gen.next(Duration.ZERO)).isEmpty();
      assertThat(gen.nextReady()).isFalse();

      touch(dir, "go-0");
      Optional<ObjectRef<Integer>> first = gen.next(WAIT);
      assertThat(first).isPresent();
      // Still index 0: the timed-out calls consumed nothing.
      assertThat(first.get().id().index()).isEqualTo(2);
      assertThat(first.get().get(WAIT)).isZero();

      touch(dir, "go-1");
      assertEnded(gen);
    }
  }

  @Test
  void nextAsyncCompletesPendingFuturesInOrderThenExceptionallyWithNoSuchElement(@TempDir Path dir)
      throws Exception {
    int n = 3;
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::gated, dir.toString(), n).remote()) {
      List<CompletableFuture<ObjectRef<Integer>>> futures = new ArrayList<>();
      for (int i = 0; i <= n; i++) {
        futures.add(gen.nextAsync());
      }
      assertThat(futures).noneMatch(CompletableFuture::isDone);

      for (int i = 0; i <= n; i++) {
        touch(dir, "go-" + i);
      }
      for (int i = 0; i < n; i++) {
        ObjectRef<Integer> ref = futures.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(ref.id().index()).isEqualTo(2 + i);
        assertThat(ref.get(WAIT)).isEqualTo(i);
      }
      assertThatThrownBy(() -> futures.get(n).get(WAIT.toSeconds(), TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(NoSuchElementException.class);
      assertThat(gen.isFinished()).isTrue();
      assertThatThrownBy(() -> gen.nextAsync().get(WAIT.toSeconds(), TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(NoSuchElementException.class);
    }
  }

  @Test
  void nextAsyncCalledOneAfterAnotherDeliversEveryItemInOrder() throws Exception {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::numbers, 100).remote()) {
      for (int i = 0; i < 100; i++) {
        assertThat(gen.nextAsync().get(WAIT.toSeconds(), TimeUnit.SECONDS).get(WAIT)).isEqualTo(i);
      }
      assertThatThrownBy(() -> gen.nextAsync().get(WAIT.toSeconds(), TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(NoSuchElementException.class);
    }
  }

  @Test
  void nextReadyIsFalseUntilTheNextItemOrTheEndIsKnown(@TempDir Path dir) {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::gated, dir.toString(), 1).remote()) {
      assertThat(gen.nextReady()).isFalse();

      touch(dir, "go-0");
      await("item 0 known").atMost(WAIT).until(gen::nextReady);
      assertThat(gen.nextReady()).as("nextReady does not consume").isTrue();
      assertThat(gen.next().get(WAIT)).isZero();
      // The generator now waits for go-1 before ending: the end is not known yet.
      assertThat(gen.nextReady()).isFalse();

      touch(dir, "go-1");
      await("end known").atMost(WAIT).until(gen::nextReady);
      assertEnded(gen);
      assertThat(gen.nextReady()).isTrue();
    }
  }

  @Test
  void autoCloseableIteratorIsClosedWhenTheStreamEnds(@TempDir Path dir) {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::closeable, dir.toString(), 5, -1).remote()) {
      assertThat(drain(gen)).isEqualTo(range(5));
      assertThat(gen.completed().get(WAIT)).isNull();
    }
    await("iterator closed").atMost(WAIT).until(() -> exists(dir, "closed"));
  }

  @Test
  void autoCloseableIteratorIsClosedWhenItFails(@TempDir Path dir) {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::closeable, dir.toString(), 5, 2).remote()) {
      assertThat(gen.next().get(WAIT)).isEqualTo(0);
      assertThat(gen.next().get(WAIT)).isEqualTo(1);
      ObjectRef<Integer> error = gen.next();
      assertThatThrownBy(() -> error.get(WAIT))
          .isInstanceOf(TaskException.class)
          .cause()
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("closeable range fails at 2");
      assertEnded(gen);
      assertThat(gen.completed().get(WAIT)).isNull();
    }
    await("iterator closed").atMost(WAIT).until(() -> exists(dir, "closed"));
  }

  @Test
  void asyncGeneratorWithSubmissionPublisherDeliversAllItemsInOrder() {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.asyncGenerator(StreamingGeneratorTest::submissionPublisher, 500).remote()) {
      assertThat(drain(gen)).isEqualTo(range(500));
      assertThat(gen.isFinished()).isTrue();
      assertThat(gen.completed().get(WAIT)).isNull();
    }
  }

  @Test
  void asyncGeneratorWithPublisherEmittingOnlyOnRequestDeliversAllItemsInOrder() {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.asyncGenerator(StreamingGeneratorTest::onRequestPublisher, 300).remote()) {
      assertThat(drain(gen)).isEqualTo(range(300));
      assertThat(gen.completed().get(WAIT)).isNull();
    }
  }

  @Test
  void asyncGeneratorWhosePublisherFailsGivesItsItemsThenOneErrorRefThenTheEnd() {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.asyncGenerator(StreamingGeneratorTest::publisherFailingAt, 10, 2).remote()) {
      assertThat(gen.next().get(WAIT)).isEqualTo(0);
      assertThat(gen.next().get(WAIT)).isEqualTo(1);
      ObjectRef<Integer> error = gen.next();
      assertThat(error.id()).isEqualTo(ObjectId.of(gen.id().taskId(), 2 + 2));
      assertThatThrownBy(() -> error.get(WAIT))
          .isInstanceOf(TaskException.class)
          .cause()
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("publisher failed at item 2");
      assertEnded(gen);
      assertThat(gen.completed().get(WAIT)).isNull();
    }
  }

  @Test
  void generatorFunctionReturningNullGivesOneErrorRefThenTheEnd() {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::returnsNull).remote()) {
      ObjectRef<Integer> first = gen.next();
      assertThatThrownBy(() -> first.get(WAIT))
          .isInstanceOf(TaskException.class)
          .hasMessageContaining("returned null instead of an Iterator");
      assertEnded(gen);
      assertThat(gen.completed().get(WAIT)).isNull();
    }
  }

  @Test
  void nullItemsArriveAsNull() {
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::withNullItem).remote()) {
      assertThat(drain(gen)).containsExactly(1, null, 3);
    }
  }

  @Test
  void itemsLargerThanTheInlineThresholdArriveIntact() {
    int size = 512 * 1024;
    assertThat(size).isGreaterThan(SluiceConfig.builder().build().inlineThresholdBytes());
    try (ObjectRefGenerator<byte[]> gen =
        Sluice.generator(StreamingGeneratorTest::chunks, 16, size).remote()) {
      int k = 0;
      for (ObjectRef<byte[]> ref : gen) {
        byte[] value = ref.get(WAIT);
        assertThat(value).hasSize(size);
        byte expected = (byte) k;
        for (byte b : value) {
          if (b != expected) {
            assertThat(b).as("content of item %d", k).isEqualTo(expected);
          }
        }
        k++;
      }
      assertThat(k).isEqualTo(16);
    }
  }

  @Test
  void severalThreadsConsumingOneGeneratorGetEachItemExactlyOnce() throws Exception {
    int n = 2000;
    int threads = 4;
    List<List<Integer>> perThread = new ArrayList<>();
    try (ObjectRefGenerator<Integer> gen =
            Sluice.generator(StreamingGeneratorTest::numbers, n).remote();
        ExecutorService consumers = Executors.newFixedThreadPool(threads)) {
      List<Future<List<Integer>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        results.add(
            consumers.submit(
                () -> {
                  List<Integer> mine = new ArrayList<>();
                  while (true) {
                    ObjectRef<Integer> ref;
                    try {
                      ref = gen.next();
                    } catch (NoSuchElementException end) {
                      return mine;
                    }
                    mine.add(ref.get(WAIT));
                  }
                }));
      }
      for (Future<List<Integer>> f : results) {
        perThread.add(f.get(90, TimeUnit.SECONDS));
      }
    }
    List<Integer> all = new ArrayList<>();
    for (List<Integer> mine : perThread) {
      assertThat(mine).as("one consumer's items come in yield order").isSorted();
      all.addAll(mine);
    }
    Collections.sort(all);
    assertThat(all).isEqualTo(range(n));
  }

  @Test
  void generatorCanBeConsumedInsideAnotherTask() {
    ObjectRef<Long> sum = Sluice.task(StreamingGeneratorTest::sumOfNestedStream, 100).remote();
    assertThat(sum.get(WAIT)).isEqualTo(99L * 100 / 2);
  }

  @Test
  void generatorSubmittedRightAfterABlockedGeneratorStreamsOnTheOtherFreeCpu(@TempDir Path dir) {
    // The first generator holds its worker until go-0 exists; the cluster has a second CPU, so
    // the second generator, submitted right after it, must not wait behind it.
    ObjectRefGenerator<Integer> blocked =
        Sluice.generator(StreamingGeneratorTest::gated, dir.toString(), 1).remote();
    ObjectRefGenerator<Integer> second =
        Sluice.generator(StreamingGeneratorTest::numbers, 3).remote();
    try {
      for (int k = 0; k < 3; k++) {
        Optional<ObjectRef<Integer>> ref = second.next(Duration.ofSeconds(15));
        assertThat(ref)
            .as("item %d of the second generator while the first is blocked", k)
            .isPresent();
        assertThat(ref.get().get(WAIT)).isEqualTo(k);
      }
      assertThat(blocked.nextReady()).isFalse();
    } finally {
      touch(dir, "go-0");
      touch(dir, "go-1");
    }
    assertThat(drain(blocked)).containsExactly(0);
    assertThat(drain(second)).isEmpty();
    blocked.close();
    second.close();
  }

  @Test
  void thirtyTwoConcurrentStreamsEachDeliverTheirOwnItemsInOrder() throws Exception {
    int streams = 32;
    int n = 200;
    List<ObjectRefGenerator<Long>> gens = new ArrayList<>();
    for (int s = 0; s < streams; s++) {
      gens.add(Sluice.generator(StreamingGeneratorTest::tagged, s, n).remote());
    }
    try (ExecutorService consumers = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<List<Long>>> results = new ArrayList<>();
      for (ObjectRefGenerator<Long> gen : gens) {
        results.add(
            consumers.submit(
                () -> {
                  List<Long> values = new ArrayList<>();
                  for (ObjectRef<Long> ref : gen) {
                    values.add(ref.get(WAIT));
                  }
                  return values;
                }));
      }
      for (int s = 0; s < streams; s++) {
        long base = s * 1_000_000L;
        assertThat(results.get(s).get(90, TimeUnit.SECONDS))
            .as("stream %d", s)
            .isEqualTo(LongStream.range(0, n).map(k -> base + k).boxed().toList());
      }
    } finally {
      gens.forEach(ObjectRefGenerator::close);
    }
    for (ObjectRefGenerator<Long> gen : gens) {
      assertThat(gen.completed().get(WAIT)).isNull();
    }
  }

  @Test
  void unserializableYieldedValueBecomesASerializationErrorItemAtItsIndexAndTheStreamGoesOn() {
    try (ObjectRefGenerator<Object> gen =
        Sluice.generator(StreamingGeneratorTest::withUnserializableItem).remote()) {
      assertThat(gen.next().get(WAIT)).isEqualTo("a");
      ObjectRef<Object> bad = gen.next();
      assertThat(bad.id()).isEqualTo(ObjectId.of(gen.id().taskId(), 3));
      assertThatThrownBy(() -> bad.get(WAIT))
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining("item 1")
          .hasMessageContaining("cannot be serialized")
          .hasMessageContaining("java.lang.Thread");
      assertThat(gen.next().get(WAIT)).isEqualTo("c");
      assertEnded(gen);
      assertThat(gen.completed().get(WAIT)).isNull();
    }
  }
}
