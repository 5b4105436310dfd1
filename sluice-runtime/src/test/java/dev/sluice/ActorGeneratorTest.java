package dev.sluice;

import static dev.sluice.GeneratorTestFiles.exists;
import static dev.sluice.GeneratorTestFiles.read;
import static dev.sluice.GeneratorTestFiles.touch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.GeneratorTestFiles.GatedIterator;
import dev.sluice.GeneratorTestFiles.OnRequestPublisher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generator methods of actors obey the streaming-generator rules end to end: order and exactly
 * once, backpressure (iterators and publishers), in-stream application errors (the actor lives on),
 * {@code completed()}, {@code close()} releasing a blocked producer and freeing the actor, {@code
 * Sluice.cancel} of a queued and of a running call, and the actor call order rule across a
 * generator (the next call runs once the generator has finished).
 *
 * <p>Generators leave marker files in a directory the test owns ({@link GeneratorTestFiles}).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ActorGeneratorTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** How long a bound (or a call not running) must hold once reached. */
  private static final Duration SETTLE = Duration.ofMillis(300);

  private final List<ActorHandle<?>> created = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(2).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  @AfterEach
  void killActors() {
    for (ActorHandle<?> a : created) {
      Sluice.kill(a);
    }
    created.clear();
  }

  private ActorHandle<Model> newModel() {
    ActorHandle<Model> m = Sluice.actor(Model::new, "m").remote();
    created.add(m);
    return m;
  }

  // ------------------------------------------------------------------ the actor

  /** A model server: streams tokens and counts what it yielded and which streams finished. */
  public static class Model {
    private final String name;
    private int yielded;
    private int finished;

    public Model(String name) {
      this.name = name;
    }

    /** Yields {@code prompt-0 .. prompt-(n-1)}. */
    public Iterator<String> tokens(String prompt, int n) {
      return new Iterator<>() {
        private int k;

        @Override
        public boolean hasNext() {
          if (k < n) {
            return true;
          }
          finished++;
          return false;
        }

        @Override
        public String next() {
          if (k >= n) {
            throw new NoSuchElementException();
          }
          yielded++;
          return prompt + "-" + k++;
        }
      };
    }

    /** Yields 0..n-1, creating yielded-k just before item k; creates closed when closed. */
    public Iterator<Integer> recorded(String dir, int n) {
      return new RecordingIterator(Path.of(dir), n);
    }

    /** Yields 0..failAt-1, then throws. */
    public Iterator<Integer> failingAt(int failAt) {
      return new Iterator<>() {
        private int k;

        @Override
        public boolean hasNext() {
          return true;
        }

        @Override
        public Integer next() {
          if (k == failAt) {
            throw new IllegalStateException("token budget exceeded at " + k);
          }
          return k++;
        }
      };
    }

    /** Creates started, then yields 0..n-1 each once go-k exists, ends once go-n exists. */
    public Iterator<Integer> gated(String dir, int n) {
      Path d = Path.of(dir);
      touch(d, "started");
      Iterator<Integer> gate = new GatedIterator(d, n);
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          boolean more = gate.hasNext();
          if (!more) {
            finished++;
          }
          return more;
        }

        @Override
        public Integer next() {
          return gate.next();
        }
      };
    }

    /** Emits 0..n-1 on request (see {@link OnRequestPublisher}). */
    public Flow.Publisher<Integer> publish(String dir, int n) {
      return new OnRequestPublisher(n, Path.of(dir));
    }

    public int yielded() {
      return yielded;
    }

    public int finished() {
      return finished;
    }

    public String name() {
      return name;
    }

    public long pid() {
      return ProcessHandle.current().pid();
    }
  }

  /** An AutoCloseable iterator that records its progress and its closing in marker files. */
  static final class RecordingIterator implements Iterator<Integer>, AutoCloseable {
    private final Path dir;
    private final int n;
    private int k;

    RecordingIterator(Path dir, int n) {
      this.dir = dir;
      this.n = n;
    }

    @Override
    public boolean hasNext() {
      return k < n;
    }

    @Override
    public Integer next() {
      touch(dir, "yielded-" + k);
      return k++;
    }

    @Override
    public void close() {
      touch(dir, "closed");
    }
  }

  // ------------------------------------------------------------------ helpers

  private static TaskOptions backpressure(int n) {
    return TaskOptions.builder().generatorBackpressureNumObjects(n).build();
  }

  /** The next item's ref, or null at the end of the stream; fails if neither comes in time. */
  private static <T> ObjectRef<T> nextOrEnd(ObjectRefGenerator<T> gen) {
    try {
      return gen.next(WAIT)
          .orElseThrow(() -> new AssertionError("no item and no end within " + WAIT));
    } catch (NoSuchElementException end) {
      return null;
    }
  }

  private static <T> List<T> drain(ObjectRefGenerator<T> gen) {
    List<T> items = new ArrayList<>();
    for (ObjectRef<T> ref = nextOrEnd(gen); ref != null; ref = nextOrEnd(gen)) {
      items.add(ref.get(WAIT));
    }
    assertThat(gen.isFinished()).isTrue();
    return items;
  }

  /** Consumes what is left (items yielded before the cancel) and checks the stream's end. */
  private static void assertCancelled(ObjectRefGenerator<Integer> gen) {
    ObjectRef<Integer> ref = nextOrEnd(gen);
    while (ref != null) {
      ObjectRef<Integer> r = ref;
      try {
        r.get(WAIT);
      } catch (TaskCancelledException e) {
        // the stream's failure, yielded once as an item
      }
      ref = nextOrEnd(gen);
    }
    assertThatThrownBy(() -> gen.completed().get(WAIT)).isInstanceOf(TaskCancelledException.class);
  }

  // ------------------------------------------------------------------ tests

  @Test
  void generatorMethodYieldsEveryItemInOrderExactlyOnceThenCompletes() {
    ActorHandle<Model> m = newModel();
    try (ObjectRefGenerator<String> gen = m.generator(Model::tokens, "hi", 200).remote()) {
      assertThat(drain(gen)).isEqualTo(IntStream.range(0, 200).mapToObj(k -> "hi-" + k).toList());
      assertThat(gen.completed().get(WAIT)).isNull();
    }
    assertThat(m.task(Model::yielded).remote().get(WAIT))
        .as("each item generated once")
        .isEqualTo(200);
  }

  @Test
  void generatorMethodBackpressureKeepsTheProducerAtMostNItemsAhead(@TempDir Path dir) {
    int n = 2;
    int items = 8;
    ActorHandle<Model> m = newModel();
    try (ObjectRefGenerator<Integer> gen =
        m.generator(Model::recorded, dir.toString(), items).options(backpressure(n)).remote()) {
      for (int c = 0; c < items; c++) {
        int consumed = c;
        int highestAllowed = Math.min(c + n, items) - 1;
        await("producer reached yielded-" + highestAllowed + " with " + c + " consumed")
            .atMost(WAIT)
            .until(() -> exists(dir, "yielded-" + highestAllowed));
        if (c + n < items) {
          await("producer stays at most " + n + " items ahead with " + c + " consumed")
              .during(SETTLE)
              .atMost(SETTLE.multipliedBy(10))
              .until(() -> !exists(dir, "yielded-" + (consumed + n)));
        }
        assertThat(gen.next().get(WAIT)).isEqualTo(c);
      }
      assertThat(gen.hasNext()).isFalse();
    }
  }

  @Test
  void asyncGeneratorMethodPublisherIsAskedOnlyForWhatTheCreditAllows(@TempDir Path dir) {
    int n = 3;
    int items = 10;
    ActorHandle<Model> m = newModel();
    try (ObjectRefGenerator<Integer> gen =
        m.asyncGenerator(Model::publish, dir.toString(), items).options(backpressure(n)).remote()) {
      for (int c = 0; c < items; c++) {
        int consumed = c;
        int highestAllowed = Math.min(c + n, items) - 1;
        await("publisher emitted item " + highestAllowed + " with " + c + " consumed")
            .atMost(WAIT)
            .until(() -> exists(dir, "yielded-" + highestAllowed));
        if (c + n < items) {
          await("publisher stays at most " + n + " items ahead")
              .during(SETTLE)
              .atMost(SETTLE.multipliedBy(10))
              .until(() -> !exists(dir, "yielded-" + (consumed + n)));
        }
        assertThat(Long.parseLong(read(dir, "requested")))
            .as("items requested with %d consumed", c)
            .isBetween((long) highestAllowed + 1, (long) c + n);
        assertThat(gen.next().get(WAIT)).isEqualTo(c);
      }
      assertThat(nextOrEnd(gen)).isNull();
      assertThat(gen.completed().get(WAIT)).isNull();
    }
  }

  @Test
  void inStreamApplicationErrorGivesKItemsThenAFailingRefAndTheActorLivesOn() {
    ActorHandle<Model> m = newModel();
    try (ObjectRefGenerator<Integer> gen = m.generator(Model::failingAt, 3).remote()) {
      for (int k = 0; k < 3; k++) {
        assertThat(gen.next().get(WAIT)).isEqualTo(k);
      }
      ObjectRef<Integer> failed = gen.next(WAIT).orElseThrow();
      assertThatThrownBy(() -> failed.get(WAIT))
          .isInstanceOf(TaskException.class)
          .hasMessageContaining("token budget exceeded at 3");
      assertThat(nextOrEnd(gen)).as("the stream ends after the error").isNull();
    }
    assertThat(m.task(Model::name).remote().get(WAIT)).isEqualTo("m");
  }

  @Test
  void closeReleasesABlockedProducerClosesItsIteratorAndTheNextCallRuns(@TempDir Path dir) {
    ActorHandle<Model> m = newModel();
    ObjectRefGenerator<Integer> gen =
        m.generator(Model::recorded, dir.toString(), 1_000_000).options(backpressure(1)).remote();
    assertThat(gen.next().get(WAIT)).isEqualTo(0);
    await("producer blocked at its bound").atMost(WAIT).until(() -> exists(dir, "yielded-1"));

    gen.close();

    assertThat(m.task(Model::name).remote().get(WAIT))
        .as("the actor is free for its next call")
        .isEqualTo("m");
    assertThat(exists(dir, "closed")).as("the generator method's iterator was closed").isTrue();
    assertThat(exists(dir, "yielded-1000")).as("the producer stopped").isFalse();
  }

  @Test
  void aCallAfterAGeneratorCallRunsOnlyOnceTheGeneratorHasFinished(@TempDir Path dir) {
    ActorHandle<Model> m = newModel();
    try (ObjectRefGenerator<Integer> gen = m.generator(Model::gated, dir.toString(), 2).remote()) {
      await("generator started").atMost(WAIT).until(() -> exists(dir, "started"));
      ObjectRef<Integer> after = m.task(Model::finished).remote();
      touch(dir, "go-0");
      assertThat(gen.next().get(WAIT)).isEqualTo(0);
      assertThat(Sluice.wait(List.of(after), 1, SETTLE).ready())
          .as("the next call waits while the generator runs")
          .isEmpty();

      touch(dir, "go-1");
      touch(dir, "go-2");

      assertThat(after.get(WAIT)).as("it ran after the generator finished").isEqualTo(1);
      assertThat(drain(gen)).containsExactly(1);
    }
  }

  @Test
  void cancelOfAQueuedGeneratorCallMeansItNeverRuns(@TempDir Path dir) {
    Path first = dir.resolve("first");
    Path second = dir.resolve("second");
    first.toFile().mkdirs();
    second.toFile().mkdirs();
    ActorHandle<Model> m = newModel();
    try (ObjectRefGenerator<Integer> running =
            m.generator(Model::gated, first.toString(), 1).remote();
        ObjectRefGenerator<Integer> queued =
            m.generator(Model::gated, second.toString(), 1).remote()) {
      await("first generator started").atMost(WAIT).until(() -> exists(first, "started"));

      Sluice.cancel(queued);
      assertCancelled(queued);

      touch(first, "go-0");
      touch(first, "go-1");
      assertThat(drain(running)).containsExactly(0);
      assertThat(m.task(Model::finished).remote().get(WAIT))
          .as("only the first generator ran")
          .isEqualTo(1);
      assertThat(exists(second, "started")).as("the cancelled call never ran").isFalse();
    }
  }

  @Test
  void cancelOfARunningGeneratorCallEndsItsStreamAndTheActorRunsTheNextCall(@TempDir Path dir) {
    ActorHandle<Model> m = newModel();
    long pid = m.task(Model::pid).remote().get(WAIT);
    try (ObjectRefGenerator<Integer> gen = m.generator(Model::gated, dir.toString(), 5).remote()) {
      touch(dir, "go-0");
      assertThat(gen.next().get(WAIT)).isEqualTo(0);

      Sluice.cancel(gen);

      assertCancelled(gen);
    }
    assertThat(m.task(Model::pid).remote().get(WAIT))
        .as("the same instance runs the next call (interrupted, not killed)")
        .isEqualTo(pid);
    assertThat(m.task(Model::finished).remote().get(WAIT))
        .as("the cancelled generator did not finish normally")
        .isZero();
  }
}
