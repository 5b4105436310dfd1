package dev.sluice;

import static dev.sluice.GeneratorTestFiles.awaitMarker;
import static dev.sluice.GeneratorTestFiles.exists;
import static dev.sluice.GeneratorTestFiles.touch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Actors end to end on an embedded 4-CPU node with real worker processes: creation (constructor,
 * static factory, pending {@link ObjectRef} arguments), the actor call order rule, state, method
 * errors, constructor failure, handles travelling (task argument, task result, {@code put}), names,
 * {@code runtimeContext().actorId()}, default placement ({@code numCpus} 0) and concurrency ({@code
 * maxConcurrency}, async methods).
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ActorTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  /** How long a bound must hold once reached. */
  private static final Duration SETTLE = Duration.ofMillis(300);

  private final List<ActorHandle<?>> created = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(4).build());
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

  static <T> List<T> getAll(List<ObjectRef<T>> refs) {
    List<T> values = new ArrayList<>();
    for (ObjectRef<T> r : refs) {
      values.add(r.get(WAIT));
    }
    return values;
  }

  private <A> ActorHandle<A> track(ActorHandle<A> handle) {
    created.add(handle);
    return handle;
  }

  // ------------------------------------------------------------------ actor classes

  /** A counter that remembers every value added, in order. */
  public static class Counter {
    private final List<Integer> seen = new ArrayList<>();
    private final String ctorActorId;
    private int total;

    public Counter(int start) {
      total = start;
      ctorActorId = Sluice.runtimeContext().actorId().map(ActorId::hex).orElse("none");
    }

    public static Counter startingAt(int start) {
      return new Counter(start + 1000);
    }

    public int add(int k) {
      seen.add(k);
      total += k;
      return total;
    }

    /** Appends {@code k} and returns how many values were added so far. */
    public int append(int k) {
      seen.add(k);
      return seen.size();
    }

    public List<Integer> seen() {
      return new ArrayList<>(seen);
    }

    public int total() {
      return total;
    }

    public int fail(String message) {
      throw new IllegalStateException(message);
    }

    public long pid() {
      return ProcessHandle.current().pid();
    }

    public String actorIdInMethod() {
      return Sluice.runtimeContext().actorId().map(ActorId::hex).orElse("none");
    }

    public String actorIdInConstructor() {
      return ctorActorId;
    }
  }

  /** An actor whose constructor always throws. */
  public static class Broken {
    public Broken(String why) {
      throw new IllegalStateException("cannot load: " + why);
    }

    public int ping() {
      return 1;
    }
  }

  /** Calls enter a gate and wait for the test to open it; records how many entered. */
  public static class Gate {
    private final AtomicInteger entered = new AtomicInteger();

    public Gate() {}

    public int enter(String dir) {
      Path d = Path.of(dir);
      int n = entered.incrementAndGet();
      touch(d, "entered-" + n);
      if (!awaitMarker(d, "open")) {
        throw new IllegalStateException("gate never opened");
      }
      return n;
    }
  }

  /** Async methods whose stages complete only once {@code total} of them are pending at once. */
  public static class Pending {
    private final List<CompletableFuture<Integer>> pending = new ArrayList<>();
    private final List<Integer> values = new ArrayList<>();

    public Pending() {}

    public CompletionStage<Integer> pendUntil(int total, int k) {
      CompletableFuture<Integer> f = new CompletableFuture<>();
      List<CompletableFuture<Integer>> ready = List.of();
      List<Integer> readyValues = List.of();
      synchronized (this) {
        pending.add(f);
        values.add(k);
        if (pending.size() == total) {
          ready = new ArrayList<>(pending);
          readyValues = new ArrayList<>(values);
          pending.clear();
          values.clear();
        }
      }
      for (int i = 0; i < ready.size(); i++) {
        ready.get(i).complete(readyValues.get(i) * 2);
      }
      return f;
    }
  }

  // ------------------------------------------------------------------ task functions

  static int waitForMarkerThen(String dir, int value) {
    if (!awaitMarker(Path.of(dir), "go")) {
      throw new IllegalStateException("marker never came");
    }
    return value;
  }

  static int addThroughHandle(ActorHandle<Counter> counter, int k) {
    return counter.task(Counter::add, k).remote().get(WAIT);
  }

  static ActorHandle<Counter> echo(ActorHandle<Counter> counter) {
    return counter;
  }

  static int addThroughName(String name, int k) {
    ActorHandle<Counter> c = Sluice.getActor(name, Counter.class).orElseThrow();
    return c.task(Counter::add, k).remote().get(WAIT);
  }

  static String actorIdInTask() {
    return Sluice.runtimeContext().actorId().map(ActorId::hex).orElse("none");
  }

  // ------------------------------------------------------------------ tests

  @Test
  void actorIsCreatedAndKeepsItsStateAcrossCalls() {
    ActorHandle<Counter> c = track(Sluice.actor(Counter::new, 10).remote());
    assertThat(c.className()).isEqualTo(Counter.class.getName());

    assertThat(c.task(Counter::add, 5).remote().get(WAIT)).isEqualTo(15);
    assertThat(c.task(Counter::add, 7).remote().get(WAIT)).isEqualTo(22);
    assertThat(c.task(Counter::total).remote().get(WAIT)).isEqualTo(22);
  }

  @Test
  void actorCallOrderRuleThousandCallsThroughOneHandleRunInSubmissionOrder() {
    ActorHandle<Counter> c = track(Sluice.actor(Counter::new, 0).remote());
    List<ObjectRef<Integer>> refs = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      refs.add(c.task(Counter::append, i).remote());
    }
    List<Integer> counts = getAll(refs);
    assertThat(counts)
        .as("call i saw i values before it (the running list)")
        .isEqualTo(IntStream.rangeClosed(1, 1000).boxed().toList());
    assertThat(c.task(Counter::seen).remote().get(WAIT))
        .isEqualTo(IntStream.range(0, 1000).boxed().toList());
  }

  @Test
  void methodExceptionIsATaskExceptionAndTheActorLivesOn() {
    ActorHandle<Counter> c = track(Sluice.actor(Counter::new, 1).remote());
    ObjectRef<Integer> failed = c.task(Counter::fail, "bad request").remote();
    ObjectRef<Integer> after = c.task(Counter::add, 2).remote();

    assertThatThrownBy(() -> failed.get(WAIT))
        .isInstanceOf(TaskException.class)
        .isNotInstanceOf(ActorDiedException.class)
        .hasMessageContaining("bad request");
    assertThat(after.get(WAIT)).as("the actor's state survived the error").isEqualTo(3);
  }

  @Test
  void constructorThatThrowsFailsEveryCallWithActorDiedConstructorFailedCarryingItsException() {
    ActorHandle<Broken> b = track(Sluice.actor(Broken::new, "no weights").remote());
    ObjectRef<Integer> pending = b.task(Broken::ping).remote();

    assertThatThrownBy(() -> pending.get(WAIT))
        .isInstanceOfSatisfying(
            ActorDiedException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(ActorDiedException.Reason.CONSTRUCTOR_FAILED);
              assertThat(e.getCause()).as("the constructor's exception").isNotNull();
              assertThat(e.getCause()).hasMessageContaining("cannot load: no weights");
            });
    ObjectRef<Integer> later = b.task(Broken::ping).remote();
    assertThatThrownBy(() -> later.get(WAIT))
        .isInstanceOfSatisfying(
            ActorDiedException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(ActorDiedException.Reason.CONSTRUCTOR_FAILED);
              assertThat(e.getCause()).hasMessageContaining("cannot load: no weights");
            });
  }

  @Test
  void staticFactoryCreatesTheActor() {
    ActorHandle<Counter> c = track(Sluice.actor(Counter::startingAt, 1).remote());
    assertThat(c.task(Counter::add, 1).remote().get(WAIT)).isEqualTo(1002);
  }

  @Test
  void objectRefArgumentsToConstructorAndCallsAreResolvedAndRemoteReturnsAtOnce(@TempDir Path dir) {
    ObjectRef<Integer> start =
        Sluice.task(ActorTest::waitForMarkerThen, dir.toString(), 100).remote();
    ActorHandle<Counter> c = track(Sluice.actor(Counter::new, start).remote());
    ObjectRef<Integer> call = c.task(Counter::add, Sluice.put(5)).remote();
    assertThat(Sluice.wait(List.of(call), 1, Duration.ofMillis(200)).ready())
        .as("no call can finish while the constructor's argument is pending")
        .isEmpty();

    touch(dir, "go");

    assertThat(call.get(WAIT)).isEqualTo(105);
  }

  @Test
  void handlePassedToATaskCanCallTheActor() {
    ActorHandle<Counter> c = track(Sluice.actor(Counter::new, 0).remote());
    assertThat(Sluice.task(ActorTest::addThroughHandle, c, 4).remote().get(WAIT)).isEqualTo(4);
    assertThat(Sluice.task(ActorTest::addThroughHandle, c, 6).remote().get(WAIT)).isEqualTo(10);
    assertThat(c.task(Counter::total).remote().get(WAIT)).isEqualTo(10);
  }

  @Test
  void handleReturnedFromATaskOrPutAndGetCanCallTheActor() {
    ActorHandle<Counter> c = track(Sluice.actor(Counter::new, 0).remote());

    ActorHandle<Counter> returned = Sluice.task(ActorTest::echo, c).remote().get(WAIT);
    assertThat(returned).isEqualTo(c);
    assertThat(returned.task(Counter::add, 3).remote().get(WAIT)).isEqualTo(3);

    ActorHandle<Counter> fromStore = Sluice.put(c).get(WAIT);
    assertThat(fromStore.id()).isEqualTo(c.id());
    assertThat(fromStore.task(Counter::add, 4).remote().get(WAIT)).isEqualTo(7);
  }

  @Test
  void namedActorIsFoundByGetActorFromTheDriverAndFromATask() {
    String name = "counter-found";
    ActorHandle<Counter> c =
        track(
            Sluice.actor(Counter::new, 0)
                .options(ActorOptions.builder().name(name).build())
                .remote());

    Optional<ActorHandle<Counter>> found = Sluice.getActor(name, Counter.class);
    assertThat(found).isPresent();
    assertThat(found.get().id()).isEqualTo(c.id());
    assertThat(found.get().task(Counter::add, 1).remote().get(WAIT)).isEqualTo(1);
    assertThat(Sluice.task(ActorTest::addThroughName, name, 2).remote().get(WAIT)).isEqualTo(3);
    assertThat(Sluice.getActor("no-such-actor", Counter.class)).isEmpty();
  }

  @Test
  void actorNameIsUniqueAmongLiveActorsAndFreeAgainOnceItIsKilled() {
    String name = "counter-unique";
    ActorOptions named = ActorOptions.builder().name(name).build();
    ActorHandle<Counter> first = track(Sluice.actor(Counter::new, 1).options(named).remote());
    assertThat(first.task(Counter::total).remote().get(WAIT)).isEqualTo(1);

    assertThatThrownBy(() -> track(Sluice.actor(Counter::new, 2).options(named).remote()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(name);

    Sluice.kill(first);
    assertThat(Sluice.getActor(name, Counter.class)).as("a dead actor is not found").isEmpty();
    ActorHandle<Counter> second = track(Sluice.actor(Counter::new, 2).options(named).remote());
    assertThat(second.task(Counter::total).remote().get(WAIT)).isEqualTo(2);
    assertThat(Sluice.getActor(name, Counter.class).orElseThrow().id()).isEqualTo(second.id());
  }

  @Test
  void getActorWithTheWrongTypeThrowsClassCastException() {
    String name = "counter-typed";
    track(
        Sluice.actor(Counter::new, 0).options(ActorOptions.builder().name(name).build()).remote());
    assertThatThrownBy(() -> Sluice.getActor(name, Gate.class))
        .isInstanceOf(ClassCastException.class);
    assertThat(Sluice.getActor(name, Object.class)).as("a superclass is fine").isPresent();
  }

  @Test
  void runtimeContextActorIdIsPresentInTheActorAndEmptyInTasksAndTheDriver() {
    ActorHandle<Counter> c = track(Sluice.actor(Counter::new, 0).remote());
    assertThat(c.task(Counter::actorIdInMethod).remote().get(WAIT)).isEqualTo(c.id().hex());
    assertThat(c.task(Counter::actorIdInConstructor).remote().get(WAIT)).isEqualTo(c.id().hex());
    assertThat(Sluice.task(ActorTest::actorIdInTask).remote().get(WAIT)).isEqualTo("none");
    assertThat(Sluice.runtimeContext().actorId()).isEmpty();
  }

  @Test
  void defaultNumCpusIsZeroSoTwentyActorsFitOnAFourCpuNodeEachInItsOwnProcess() {
    assertThat(ActorOptions.defaults().numCpus()).isZero();
    List<ActorHandle<Counter>> actors = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      actors.add(track(Sluice.actor(Counter::new, i).remote()));
    }
    List<ObjectRef<Long>> pids = new ArrayList<>();
    for (ActorHandle<Counter> a : actors) {
      pids.add(a.task(Counter::pid).remote());
    }
    Set<Long> distinct = new HashSet<>();
    for (ObjectRef<Long> p : pids) {
      distinct.add(p.get(Duration.ofMinutes(2)));
    }
    assertThat(distinct).as("one process per actor").hasSize(20);
    assertThat(Sluice.task(ActorTest::actorIdInTask).remote().get(WAIT))
        .as("tasks still run: the actors hold no CPU")
        .isEqualTo("none");
  }

  @Test
  void maxConcurrencyNRunsNCallsAtOnceAndNoMore(@TempDir Path dir) {
    int n = 3;
    ActorHandle<Gate> g =
        track(
            Sluice.actor(Gate::new)
                .options(ActorOptions.builder().maxConcurrency(n).build())
                .remote());
    List<ObjectRef<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 2 * n; i++) {
      calls.add(g.task(Gate::enter, dir.toString()).remote());
    }
    await(n + " calls inside at once")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> exists(dir, "entered-" + n));
    await("no call beyond " + n + " enters")
        .during(SETTLE)
        .atMost(SETTLE.multipliedBy(10))
        .until(() -> !exists(dir, "entered-" + (n + 1)));

    touch(dir, "open");

    assertThat(getAll(calls))
        .containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(1, 2 * n).boxed().toList());
  }

  @Test
  void asyncMethodsThousandPendingStagesWithMaxConcurrencyThousandAllComplete() {
    int total = 1000;
    ActorHandle<Pending> p =
        track(
            Sluice.actor(Pending::new)
                .options(ActorOptions.builder().maxConcurrency(total).build())
                .remote());
    List<ObjectRef<Integer>> refs = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      refs.add(p.asyncTask(Pending::pendUntil, total, i).remote());
    }
    assertThat(getAll(refs))
        .as("each stage completes only once all 1000 are pending at once")
        .isEqualTo(IntStream.range(0, total).map(i -> 2 * i).boxed().toList());
  }
}
