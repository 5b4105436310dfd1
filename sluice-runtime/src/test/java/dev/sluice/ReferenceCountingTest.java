package dev.sluice;

import static dev.sluice.GeneratorTestFiles.awaitMarker;
import static dev.sluice.GeneratorTestFiles.exists;
import static dev.sluice.GeneratorTestFiles.read;
import static dev.sluice.GeneratorTestFiles.touch;
import static dev.sluice.GeneratorTestFiles.writeAtomically;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reference counting end to end, on a real cluster with worker JVMs, in the style of Ray's
 * reference counting tests: after each workload drops every ref, the driver's reference table and
 * memory store return to where they were (no leak), while objects stay alive for as long as
 * anything still needs them: a pending task's argument, an outer object containing them, a
 * borrowing worker, or a caller getting them through a task's return.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ReferenceCountingTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Duration SETTLE = Duration.ofSeconds(30);

  /** Worker side: a ref kept by a task after it returned (see {@link #holdInStaticField}). */
  private static volatile ObjectRef<String> held;

  @TempDir Path dir;

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceTestSupport.twoCpus());
    GeneratorTestFiles.awaitIdleWorkers(2);
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  /**
   * Stops the test's pacers, so that no worker writes in its directory while it is deleted (a
   * worker the test killed has no pacer left).
   */
  @AfterEach
  void stopPacers() throws Exception {
    touch(dir, "stop");
    List<String> pacers;
    try (var files = Files.list(dir)) {
      pacers =
          files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("pacer-")).toList();
    }
    for (String p : pacers) {
      String pid = p.substring("pacer-".length());
      await("pacer of worker " + pid + " stopped")
          .atMost(SETTLE)
          .until(
              () ->
                  exists(dir, "stopped-" + pid)
                      || !ProcessHandle.of(Long.parseLong(pid))
                          .map(ProcessHandle::isAlive)
                          .orElse(false));
    }
  }

  // ------------------------------------------------------------------ worker side

  /**
   * A worker releases a borrowed ref only once its garbage collector finds it unreachable, so tasks
   * that borrow start a pacer, which makes the release prompt and lets the test watch the worker's
   * tables. It collects garbage in the worker JVM every 50 ms until the test creates {@code stop}
   * in {@code dir}, and after each collection writes {@code gc-<pid>}: the number of collections so
   * far, then the worker's referenced objects and memory store objects. It announces itself with
   * {@code pacer-<pid>} before {@link #start} returns and confirms it stopped writing with {@code
   * stopped-<pid>} (see {@link ReferenceCountingTest#stopPacers}).
   */
  static final class GcPacer {
    private static final Set<Path> PACING = ConcurrentHashMap.newKeySet();

    static void start(Path dir) {
      if (!PACING.add(dir)) {
        return;
      }
      long pid = ProcessHandle.current().pid();
      touch(dir, "pacer-" + pid);
      Thread.ofPlatform()
          .daemon()
          .name("test-gc-pacer")
          .inheritInheritableThreadLocals(false)
          .start(
              () -> {
                Path out = dir.resolve("gc-" + pid);
                try {
                  for (long n = 1; Files.isDirectory(dir) && !exists(dir, "stop"); n++) {
                    System.gc();
                    ObjectStoreStats s = Sluice.objectStoreStats();
                    writeAtomically(
                        out, n + " " + s.referencedObjects() + " " + s.memoryStoreObjects());
                    Thread.sleep(50);
                  }
                  touch(dir, "stopped-" + pid);
                } catch (InterruptedException | RuntimeException e) {
                  // the directory went away or the worker is shutting down
                } finally {
                  PACING.remove(dir);
                }
              });
    }
  }

  static int square(int x) {
    return x * x;
  }

  static String gate(String dir) {
    return awaitMarker(Path.of(dir), "open") ? "open" : "gate timed out";
  }

  static String joined(String gate, String payload) {
    return gate + "/" + payload;
  }

  /** Reads the ref nested in its argument only once the test created {@code dropped}. */
  static String readNestedAfterDrop(List<ObjectRef<String>> refs, String dir) {
    Path d = Path.of(dir);
    GcPacer.start(d);
    if (!awaitMarker(d, "dropped")) {
      return "marker timed out";
    }
    return refs.get(0).get(WAIT);
  }

  /** What {@link #putInWorker} returns. */
  record WorkerPut(long pid, long referencedAtStart, long storedAtStart, ObjectRef<String> ref) {}

  /** Puts {@code value} in the worker and returns the ref (owned by the worker) inside a record. */
  static WorkerPut putInWorker(String value, String dir) {
    GcPacer.start(Path.of(dir));
    ObjectStoreStats before = Sluice.objectStoreStats();
    return new WorkerPut(
        ProcessHandle.current().pid(),
        before.referencedObjects(),
        before.memoryStoreObjects(),
        Sluice.put(value));
  }

  /**
   * Keeps the ref nested in its argument in a static field after it returns. A thread it starts
   * reads the value through that field once the test created {@code read} (writing {@code value}),
   * and clears the field once the test created {@code release}. A thread of the same JVM rather
   * than a later task, because which worker runs a task (there may be spares) is not up to the
   * test.
   */
  static long holdInStaticField(List<ObjectRef<String>> refs, String dir) {
    Path d = Path.of(dir);
    GcPacer.start(d);
    held = refs.get(0);
    Thread.ofPlatform()
        .daemon()
        .name("test-holder")
        .inheritInheritableThreadLocals(false)
        .start(
            () -> {
              try {
                if (!awaitMarker(d, "read")) {
                  return;
                }
                String result;
                try {
                  result = "value:" + held.get(WAIT);
                } catch (Throwable t) {
                  result = "error:" + t;
                }
                writeAtomically(d.resolve("value"), result);
                awaitMarker(d, "release");
              } catch (RuntimeException e) {
                // the directory went away
              } finally {
                held = null;
              }
            });
    return ProcessHandle.current().pid();
  }

  /** Returns the refs it was given, nested as they came. */
  static List<ObjectRef<String>> echo(List<ObjectRef<String>> refs, String dir) {
    GcPacer.start(Path.of(dir));
    return refs;
  }

  /**
   * Yields refs to {@code n} objects it puts in the worker, after writing {@code start-<pid>}: the
   * worker's referenced and memory store objects before the first put.
   */
  static Iterator<ObjectRef<String>> putsInWorker(int n, String dir) {
    Path d = Path.of(dir);
    GcPacer.start(d);
    ObjectStoreStats before = Sluice.objectStoreStats();
    writeAtomically(
        d.resolve("start-" + ProcessHandle.current().pid()),
        before.referencedObjects() + " " + before.memoryStoreObjects());
    return IntStream.range(0, n).mapToObj(i -> Sluice.put("item-" + i)).iterator();
  }

  static Iterator<Integer> numbers(int n) {
    return IntStream.range(0, n).iterator();
  }

  static int plusOne(int x) {
    return x + 1;
  }

  // ------------------------------------------------------------------ driver-side helpers

  private static ObjectStoreStats stats() {
    return Sluice.objectStoreStats();
  }

  /**
   * Waits, collecting garbage, until the driver's reference table and memory store hold {@code
   * referenced} and {@code stored} objects.
   */
  private static void awaitDriver(String what, long referenced, long stored) {
    await(what)
        .atMost(SETTLE)
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(
            () -> {
              System.gc();
              ObjectStoreStats now = stats();
              assertThat(now.referencedObjects())
                  .as("driver's referenced objects")
                  .isEqualTo(referenced);
              assertThat(now.memoryStoreObjects())
                  .as("driver's memory store objects")
                  .isEqualTo(stored);
            });
  }

  /** Waits until the driver's tables are back to {@code baseline}. */
  private static void awaitBaseline(ObjectStoreStats baseline) {
    awaitDriver(
        "driver back to its baseline " + baseline,
        baseline.referencedObjects(),
        baseline.memoryStoreObjects());
  }

  private static void awaitCollected(WeakReference<?>... refs) {
    await("driver refs collected")
        .atMost(SETTLE)
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(
            () -> {
              System.gc();
              for (WeakReference<?> r : refs) {
                assertThat(r.get()).isNull();
              }
            });
  }

  /** The last line the {@link GcPacer} of worker {@code pid} wrote: [collections, refs, store]. */
  private long[] pacer(long pid) {
    String name = "gc-" + pid;
    if (!exists(dir, name)) {
      return new long[] {0, -1, -1};
    }
    String[] parts = read(dir, name).split(" ");
    return new long[] {
      Long.parseLong(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2])
    };
  }

  /** Waits until the worker's pacer has collected garbage {@code n} more times. */
  private void awaitWorkerCollections(long pid, int n) {
    long start = pacer(pid)[0];
    await("worker " + pid + " collected garbage")
        .atMost(SETTLE)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> pacer(pid)[0] >= start + n);
  }

  // ------------------------------------------------------------------ tasks and puts

  private static void squaresGotAndDropped(int n, ObjectStoreStats base) {
    List<ObjectRef<Integer>> refs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      refs.add(Sluice.task(ReferenceCountingTest::square, i).remote());
    }
    // Results whose refs are dropped while their tasks run, never got.
    for (int i = 0; i < n / 4; i++) {
      Sluice.task(ReferenceCountingTest::square, i).remote();
    }
    List<Integer> values = Sluice.get(refs);
    assertThat(values).isEqualTo(IntStream.range(0, n).map(i -> i * i).boxed().toList());
    assertThat(stats().referencedObjects())
        .as("one entry per held result")
        .isGreaterThanOrEqualTo(base.referencedObjects() + n);
  }

  @Test
  void manyTaskResultsAreFreedOnceDropped() {
    ObjectStoreStats base = stats();

    squaresGotAndDropped(200, base);

    awaitBaseline(base);
  }

  private static void putsGotAndDropped(int n, ObjectStoreStats base) {
    List<ObjectRef<String>> refs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      refs.add(Sluice.put("value-" + i));
    }
    ObjectStoreStats holding = stats();
    assertThat(holding.referencedObjects()).isEqualTo(base.referencedObjects() + n);
    assertThat(holding.memoryStoreObjects()).isEqualTo(base.memoryStoreObjects() + n);
    for (int i = 0; i < n; i++) {
      assertThat(refs.get(i).get()).isEqualTo("value-" + i);
    }
  }

  @Test
  void putsAreFreedOnceDropped() {
    ObjectStoreStats base = stats();

    putsGotAndDropped(100, base);

    awaitBaseline(base);
  }

  /** An outer put containing three inner puts, whose own refs are dropped on return. */
  private record Nested(
      ObjectRef<List<ObjectRef<String>>> outer, List<WeakReference<ObjectRef<String>>> inner) {}

  private static Nested outerWithDroppedInners() {
    List<ObjectRef<String>> inner =
        List.of(Sluice.put("inner-0"), Sluice.put("inner-1"), Sluice.put("inner-2"));
    ObjectRef<List<ObjectRef<String>>> outer = Sluice.put(inner);
    return new Nested(outer, inner.stream().map(WeakReference::new).toList());
  }

  private static List<String> valuesThroughOuter(ObjectRef<List<ObjectRef<String>>> outer) {
    return outer.get().stream().map(ObjectRef::get).toList();
  }

  @Test
  void aPutContainingRefsKeepsTheInnerObjectsAliveUntilItIsFreed() {
    ObjectStoreStats base = stats();
    Nested nested = outerWithDroppedInners();

    awaitCollected(nested.inner().toArray(WeakReference[]::new));
    awaitDriver(
        "the inner objects still held by the outer one",
        base.referencedObjects() + 4,
        base.memoryStoreObjects() + 4);
    assertThat(valuesThroughOuter(nested.outer())).containsExactly("inner-0", "inner-1", "inner-2");

    nested = null;
    awaitBaseline(base);
  }

  // ------------------------------------------------------------------ task arguments

  /** A task's result ref, and a weak ref to the argument the caller no longer holds. */
  private record Submitted<R>(ObjectRef<R> result, WeakReference<ObjectRef<String>> arg) {}

  private static Submitted<String> readerOfANestedArgument(String dir) {
    ObjectRef<String> arg = Sluice.put("payload");
    ObjectRef<String> result =
        Sluice.task(ReferenceCountingTest::readNestedAfterDrop, List.of(arg), dir).remote();
    return new Submitted<>(result, new WeakReference<>(arg));
  }

  @Test
  void aRefNestedInAnArgumentStaysReadableAfterTheCallerDropsIt() {
    assertDeliveredAfterTheCallerDropsTheArgument(
        ReferenceCountingTest::readerOfANestedArgument, "dropped", "payload");
  }

  /**
   * Submits a task through {@code submit}, waits until the caller's ref to the task's argument is
   * collected, lets the task go on (marker {@code go}), checks that it returns {@code expected},
   * and that everything is released once the task ended and the worker's borrowed ref was
   * collected.
   */
  private void assertDeliveredAfterTheCallerDropsTheArgument(
      java.util.function.Function<String, Submitted<String>> submit, String go, String expected) {
    ObjectStoreStats base = stats();
    Submitted<String> s = submit.apply(dir.toString());

    awaitCollected(s.arg());
    touch(dir, go);
    assertThat(s.result().get(WAIT)).isEqualTo(expected);

    s = null;
    awaitBaseline(base);
  }

  private static Submitted<String> joinedAfterTheGate(String dir) {
    ObjectRef<String> arg = Sluice.put("payload");
    ObjectRef<String> gate = Sluice.task(ReferenceCountingTest::gate, dir).remote();
    ObjectRef<String> result = Sluice.task(ReferenceCountingTest::joined, gate, arg).remote();
    return new Submitted<>(result, new WeakReference<>(arg));
  }

  @Test
  void aTopLevelArgumentDroppedWhileItsTaskWaitsIsStillDelivered() {
    // The task waits for its other argument (the gate); the caller's ref to this one is gone.
    assertDeliveredAfterTheCallerDropsTheArgument(
        ReferenceCountingTest::joinedAfterTheGate, "open", "open/payload");
  }

  // ------------------------------------------------------------------ borrowing

  private static ObjectRef<WorkerPut> submitPutInWorker(String dir) {
    return Sluice.task(ReferenceCountingTest::putInWorker, "made-in-a-worker", dir).remote();
  }

  @Test
  void aRefReturnedFromAWorkerStaysReadableAfterTheWorkerDroppedItsOwn() {
    ObjectStoreStats base = stats();
    ObjectRef<WorkerPut> outer = submitPutInWorker(dir.toString());
    WorkerPut got = outer.get(WAIT);
    long pid = got.pid();

    // The task's own ref to its put is garbage in the worker now; the driver's borrow, which
    // the worker registered before replying, keeps the object there.
    awaitWorkerCollections(pid, 3);
    assertThat(got.ref().get(WAIT)).isEqualTo("made-in-a-worker");
    assertThat(stats().referencedObjects())
        .as("the task's return and the borrowed object")
        .isEqualTo(base.referencedObjects() + 2);

    long referencedAtStart = got.referencedAtStart();
    long storedAtStart = got.storedAtStart();
    outer = null;
    got = null;
    awaitBaseline(base);
    // The driver gave its borrow back, so the worker freed the object: its tables hold at most
    // what they held when the task started (earlier tests' garbage may have gone meanwhile).
    await("worker " + pid + " freed its put")
        .atMost(SETTLE)
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(
            () -> {
              long[] p = pacer(pid);
              assertThat(p[1]).as("worker's referenced objects").isBetween(0L, referencedAtStart);
              assertThat(p[2]).as("worker's memory store objects").isBetween(0L, storedAtStart);
            });
  }

  private static void echoedRefsReadable(String dir) {
    ObjectRef<String> a = Sluice.put("a");
    ObjectRef<List<ObjectRef<String>>> echoed =
        Sluice.task(ReferenceCountingTest::echo, List.of(a), dir).remote();
    List<ObjectRef<String>> back = echoed.get(WAIT);
    assertThat(back).containsExactly(a);
    assertThat(back.getFirst().get()).isEqualTo("a");
  }

  @Test
  void aTaskReturningTheCallersOwnRefLeavesNothingBehind() {
    ObjectStoreStats base = stats();

    // The executor registers the caller as a borrower of its own object; the caller turns that
    // borrow into the returned object's contained ref, released with it.
    echoedRefsReadable(dir.toString());

    awaitBaseline(base);
  }

  private static Submitted<Long> holdInAWorker(String dir) {
    ObjectRef<String> arg = Sluice.put("kept-by-a-borrower");
    ObjectRef<Long> pid =
        Sluice.task(ReferenceCountingTest::holdInStaticField, List.of(arg), dir).remote();
    return new Submitted<>(pid, new WeakReference<>(arg));
  }

  @Test
  void aWorkerKeepingARefAfterItsTaskEndedKeepsTheObjectAlive() {
    ObjectStoreStats base = stats();
    Submitted<Long> h = holdInAWorker(dir.toString());
    long pid = h.result().get(WAIT);
    WeakReference<ObjectRef<String>> arg = h.arg();
    h = null;

    // Neither the driver's ref nor the finished task holds the object any more: only the
    // worker's static field does.
    awaitCollected(arg);
    awaitDriver(
        "only the borrowed object left",
        base.referencedObjects() + 1,
        base.memoryStoreObjects() + 1);
    awaitWorkerCollections(pid, 3);
    touch(dir, "read");
    await("the worker read the value").atMost(WAIT).until(() -> exists(dir, "value"));
    assertThat(read(dir, "value")).isEqualTo("value:kept-by-a-borrower");
    assertThat(stats().referencedObjects()).isEqualTo(base.referencedObjects() + 1);

    // The worker clears its field; its collection gives the borrow back.
    touch(dir, "release");
    awaitBaseline(base);
  }

  @Test
  void aBorrowerThatDiesGivesItsBorrowsBack() {
    ObjectStoreStats base = stats();
    Submitted<Long> h = holdInAWorker(dir.toString());
    long pid = h.result().get(WAIT);
    WeakReference<ObjectRef<String>> arg = h.arg();
    h = null;
    awaitCollected(arg);
    awaitDriver(
        "only the borrowed object left",
        base.referencedObjects() + 1,
        base.memoryStoreObjects() + 1);

    // The borrower never releases its static field: it is killed instead.
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    awaitBaseline(base);
  }

  // ------------------------------------------------------------------ streams

  private static int consumeAll(int n) {
    ObjectRefGenerator<Integer> gen = Sluice.generator(ReferenceCountingTest::numbers, n).remote();
    int k = 0;
    for (ObjectRef<Integer> item : gen) {
      assertThat(item.get(WAIT)).isEqualTo(k);
      k++;
    }
    return k;
  }

  @Test
  void aFullyConsumedStreamLeavesNothingBehind() {
    ObjectStoreStats base = stats();

    assertThat(consumeAll(1_000)).isEqualTo(1_000);

    awaitBaseline(base);
  }

  private static void consumeTenOfAHundredThenClose(ObjectStoreStats base) {
    ObjectRefGenerator<Integer> gen =
        Sluice.generator(ReferenceCountingTest::numbers, 100).remote();
    // The generator ends only once all its items are reported.
    assertThat(gen.completed().get(WAIT)).isNull();
    List<ObjectRef<Integer>> consumed = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      consumed.add(gen.next());
    }
    // Unconsumed items wait in the stream, consumed ones in their refs: neither is in the
    // store, which holds only the generator's own object.
    ObjectStoreStats mid = stats();
    assertThat(mid.referencedObjects()).isEqualTo(base.referencedObjects() + 1);
    assertThat(mid.memoryStoreObjects()).isEqualTo(base.memoryStoreObjects() + 1);
    gen.close();
    assertThat(Sluice.get(consumed)).isEqualTo(IntStream.range(0, 10).boxed().toList());
  }

  @Test
  void aStreamClosedHalfConsumedLeavesNothingBehind() {
    ObjectStoreStats base = stats();

    consumeTenOfAHundredThenClose(base);

    awaitBaseline(base);
  }

  /** Consumes three of ten refs put by the generator's worker (getting each), then closes. */
  private static void consumeThreeWorkerRefsThenClose(String dir) {
    ObjectRefGenerator<ObjectRef<String>> gen =
        Sluice.generator(ReferenceCountingTest::putsInWorker, 10, dir).remote();
    assertThat(gen.completed().get(WAIT)).isNull();
    for (int i = 0; i < 3; i++) {
      assertThat(gen.next().get(WAIT).get(WAIT)).isEqualTo("item-" + i);
    }
    gen.close();
  }

  @Test
  void aStreamOfRefsClosedHalfConsumedGivesEveryBorrowBack() throws Exception {
    ObjectStoreStats base = stats();

    consumeThreeWorkerRefsThenClose(dir.toString());

    awaitBaseline(base);
    Path start;
    try (var files = Files.list(dir)) {
      start =
          files
              .filter(f -> f.getFileName().toString().startsWith("start-"))
              .findFirst()
              .orElseThrow();
    }
    long pid = Long.parseLong(start.getFileName().toString().substring("start-".length()));
    String[] before = Files.readString(start).split(" ");
    // The worker frees all ten objects: the three consumed ones once the driver's refs were
    // collected, the seven unconsumed ones when the stream was closed. Its tables hold at most
    // what they held when the generator started.
    await("worker " + pid + " freed every item")
        .atMost(SETTLE)
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(
            () -> {
              long[] p = pacer(pid);
              assertThat(p[1])
                  .as("worker's referenced objects")
                  .isBetween(0L, Long.parseLong(before[0]));
              assertThat(p[2])
                  .as("worker's memory store objects")
                  .isBetween(0L, Long.parseLong(before[1]));
            });
  }

  private static void consumeAFailingStream() {
    ObjectRefGenerator<Integer> gen =
        Sluice.generator(StreamingGeneratorTest::failAfter, 5).remote();
    for (int i = 0; i < 5; i++) {
      assertThat(gen.next().get(WAIT)).isEqualTo(i);
    }
    ObjectRef<Integer> failure = gen.next();
    assertThatThrownBy(() -> failure.get(WAIT))
        .isInstanceOf(TaskException.class)
        .cause()
        .hasMessage("boom after 5 items");
    assertThat(gen.hasNext()).isFalse();
  }

  @Test
  void aFailingGeneratorLeavesNothingBehind() {
    ObjectStoreStats base = stats();

    consumeAFailingStream();

    awaitBaseline(base);
  }

  private static void passItemsToTasks(ObjectStoreStats base) {
    ObjectRefGenerator<Integer> gen = Sluice.generator(ReferenceCountingTest::numbers, 20).remote();
    List<ObjectRef<Integer>> results = new ArrayList<>();
    for (ObjectRef<Integer> item : gen) {
      // Passing an item's ref to a task makes the table count it.
      results.add(Sluice.task(ReferenceCountingTest::plusOne, item).remote());
    }
    assertThat(Sluice.get(results)).isEqualTo(IntStream.range(1, 21).boxed().toList());
    assertThat(stats().referencedObjects()).isGreaterThan(base.referencedObjects() + 20);
  }

  @Test
  void streamedItemsPassedToTasksAreFreedOnceDropped() {
    ObjectStoreStats base = stats();

    passItemsToTasks(base);

    awaitBaseline(base);
  }

  // ------------------------------------------------------------------ explicit release

  static Iterator<byte[]> largeItems(int n) {
    return IntStream.range(0, n).mapToObj(i -> new byte[512 << 10]).iterator();
  }

  @Test
  void aReleasedRefIsUncountedAtOnceThoughStillReachable() {
    ObjectStoreStats base = stats();
    ObjectRef<String> ref = Sluice.put("released early");
    assertThat(stats().referencedObjects()).isEqualTo(base.referencedObjects() + 1);

    ref.release();

    // No collection ran: only the release can have dropped the count.
    ObjectStoreStats after = stats();
    assertThat(after.referencedObjects()).isEqualTo(base.referencedObjects());
    assertThat(after.memoryStoreObjects()).isEqualTo(base.memoryStoreObjects());
    java.lang.ref.Reference.reachabilityFence(ref);
  }

  @Test
  void aReleasedRefCannotBeUsedAgainAndReleasingTwiceIsHarmless() {
    ObjectStoreStats base = stats();

    useReleasedRef();

    awaitBaseline(base);
  }

  private static void useReleasedRef() {
    ObjectRef<String> ref = Sluice.put("gone");
    ref.release();
    ref.release();

    assertThatThrownBy(ref::get)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("was released");
    assertThatThrownBy(() -> Sluice.task(ReferenceCountingTest::length, ref).remote())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("was released");
    assertThatThrownBy(() -> Sluice.put(List.of(ref)))
        .hasRootCauseInstanceOf(IllegalStateException.class)
        .rootCause()
        .hasMessageContaining("was released");
  }

  static int length(String s) {
    return s.length();
  }

  @Test
  void releasingOneHandleLeavesTheObjectToItsOtherHolders() {
    ObjectStoreStats base = stats();

    readThroughOuterAfterReleasingInner();

    awaitBaseline(base);
  }

  private static void readThroughOuterAfterReleasingInner() {
    ObjectRef<String> inner = Sluice.put("still needed");
    ObjectRef<List<ObjectRef<String>>> outer = Sluice.put(List.of(inner));

    inner.release();

    assertThat(outer.get(WAIT).get(0).get(WAIT)).isEqualTo("still needed");
  }

  @Test
  void releasedStreamItemsLeaveSharedMemoryWithoutAGarbageCollection() {
    ObjectStoreStats base = stats();

    consumeAndReleaseLargeItems();

    awaitBaseline(base);
  }

  private static void consumeAndReleaseLargeItems() {
    List<ObjectRef<byte[]>> kept = new ArrayList<>();
    try (ObjectRefGenerator<byte[]> gen =
        Sluice.generator(ReferenceCountingTest::largeItems, 6).remote()) {
      for (ObjectRef<byte[]> item : gen) {
        assertThat(item.get(WAIT)).hasSize(512 << 10);
        item.release();
        kept.add(item);
      }
    }
    await("released items freed from shared memory")
        .atMost(SETTLE)
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(
            () -> {
              ObjectStoreStats s = stats();
              assertThat(s.sharedMemoryObjects()).isZero();
              assertThat(s.sharedMemoryUsedBytes()).isZero();
            });
    assertThat(kept).as("every handle is still reachable").hasSize(6);
  }
}
