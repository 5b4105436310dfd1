package dev.sluice;

import static dev.sluice.GeneratorTestFiles.awaitMarker;
import static dev.sluice.GeneratorTestFiles.exists;
import static dev.sluice.GeneratorTestFiles.read;
import static dev.sluice.GeneratorTestFiles.touch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Actor failures end to end on an embedded 1-CPU node, with processes dying for real: {@code
 * Sluice.kill} from the driver and from a task, actor worker processes halting (restarts, retried
 * calls and generator methods, no restarts left), an {@code OWNED} actor dying with the worker
 * process of the task that created it, and an actor's CPUs returning when it dies.
 *
 * <p>Actors record each construction as a file {@code constructed-g} (g = 0, 1, ...) in a directory
 * the test owns, so an instance knows its generation and the test sees restarts.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ActorFailureTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  /** How long a call must stay unfinished to count as waiting. */
  private static final Duration SETTLE = Duration.ofMillis(300);

  private final List<ActorHandle<?>> created = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(1).build());
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

  private ActorHandle<Svc> newSvc(Path dir, boolean holdRestart, ActorOptions options) {
    ActorHandle<Svc> s =
        Sluice.actor(Svc::new, dir.toString(), holdRestart).options(options).remote();
    created.add(s);
    return s;
  }

  private static ActorOptions restarts(int maxRestarts, int maxTaskRetries) {
    return ActorOptions.builder().maxRestarts(maxRestarts).maxTaskRetries(maxTaskRetries).build();
  }

  // ------------------------------------------------------------------ the actor

  /** A service that knows its generation (how many times it was constructed before). */
  public static class Svc {
    private final Path dir;
    private final int generation;
    private final List<Integer> seen = new ArrayList<>();

    /**
     * Records {@code constructed-g}; a restarted instance ({@code g >= 1}) with {@code holdRestart}
     * waits for {@code restart-go} before it is ready.
     */
    public Svc(String dir, boolean holdRestart) {
      this.dir = Path.of(dir);
      this.generation = countConstructed(this.dir);
      touch(this.dir, "constructed-" + generation);
      if (generation >= 1 && holdRestart && !awaitMarker(this.dir, "restart-go")) {
        throw new IllegalStateException("restart-go never came");
      }
    }

    public int generation() {
      return generation;
    }

    public long pid() {
      return ProcessHandle.current().pid();
    }

    public int append(int k) {
      seen.add(k);
      return seen.size();
    }

    public List<Integer> seen() {
      return new ArrayList<>(seen);
    }

    /** Halts this actor's process (every time). */
    public int halt() {
      Runtime.getRuntime().halt(1);
      return -1;
    }

    /** Halts this actor's process if this is the first instance; returns the generation. */
    public int haltOnFirstInstance() {
      if (generation == 0) {
        Runtime.getRuntime().halt(1);
      }
      return generation;
    }

    /** Waits for marker {@code name} (a call that runs until the test lets it go). */
    public int block(String name) {
      touch(dir, "blocking");
      if (!awaitMarker(dir, name)) {
        throw new IllegalStateException(name + " never came");
      }
      return 1;
    }

    /**
     * Yields 0..n-1, creating yielded-g-k before item k; the first instance halts its process
     * instead of yielding item {@code haltAt}.
     */
    public Iterator<Integer> stream(int n, int haltAt) {
      return new Iterator<>() {
        private int k;

        @Override
        public boolean hasNext() {
          return k < n;
        }

        @Override
        public Integer next() {
          if (generation == 0 && k == haltAt) {
            Runtime.getRuntime().halt(1);
          }
          touch(dir, "yielded-" + generation + "-" + k);
          return k++;
        }
      };
    }

    private static int countConstructed(Path dir) {
      try (Stream<Path> files = Files.list(dir)) {
        return (int)
            files.filter(p -> p.getFileName().toString().startsWith("constructed-")).count();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  // ------------------------------------------------------------------ task functions

  static int killFromTask(ActorHandle<Svc> actor) {
    Sluice.kill(actor);
    return 1;
  }

  /** Creates an OWNED actor from inside a task; records this worker's pid as task-pid. */
  static ActorHandle<Svc> createOwned(String dir) {
    touch(Path.of(dir), "task-pid");
    ActorHandle<Svc> a = Sluice.actor(Svc::new, dir, false).remote();
    a.task(Svc::pid).remote().get(WAIT);
    return a;
  }

  static long myPid() {
    return ProcessHandle.current().pid();
  }

  // ------------------------------------------------------------------ helpers

  private static void assertDied(ObjectRef<?> ref, ActorDiedException.Reason reason) {
    assertThatThrownBy(() -> ref.get(WAIT))
        .isInstanceOfSatisfying(
            ActorDiedException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  private static void awaitGone(long pid, String what) {
    await(what + " (pid " + pid + ") exits")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
  }

  private static long pidIn(Path dir, String name) {
    await(name + " written").atMost(WAIT).until(() -> exists(dir, name));
    return Long.parseLong(read(dir, name));
  }

  private static <T> List<T> getAll(List<ObjectRef<T>> refs) {
    List<T> values = new ArrayList<>();
    for (ObjectRef<T> r : refs) {
      values.add(r.get(WAIT));
    }
    return values;
  }

  // ------------------------------------------------------------------ tests

  @Test
  void killFailsTheRunningQueuedAndLaterCallsWithActorDiedKilledAndStopsItsProcess(
      @TempDir Path dir) {
    ActorHandle<Svc> a = newSvc(dir, false, restarts(2, 2));
    long pid = a.task(Svc::pid).remote().get(WAIT);
    ObjectRef<Integer> running = a.task(Svc::block, "never").remote();
    ObjectRef<Integer> queued = a.task(Svc::append, 1).remote();
    await("the blocking call runs").atMost(WAIT).until(() -> exists(dir, "blocking"));

    Sluice.kill(a);
    ObjectRef<Integer> later = a.task(Svc::append, 2).remote();

    assertDied(running, ActorDiedException.Reason.KILLED);
    assertDied(queued, ActorDiedException.Reason.KILLED);
    assertDied(later, ActorDiedException.Reason.KILLED);
    awaitGone(pid, "the killed actor's process");
    assertThat(exists(dir, "constructed-1")).as("kill is final even with restarts left").isFalse();
  }

  @Test
  void killFromATaskInAnotherProcessKillsTheActorForEveryCaller(@TempDir Path dir) {
    ActorHandle<Svc> a = newSvc(dir, false, ActorOptions.defaults());
    long pid = a.task(Svc::pid).remote().get(WAIT);

    assertThat(Sluice.task(ActorFailureTest::killFromTask, a).remote().get(WAIT)).isEqualTo(1);

    awaitGone(pid, "the killed actor's process");
    assertDied(a.task(Svc::append, 1).remote(), ActorDiedException.Reason.KILLED);
  }

  @Test
  void restartRunsTheConstructorAgainInANewProcessWithTheSameIdAndNameAndCallsMadeMeanwhileWait(
      @TempDir Path dir) {
    String name = "restarting-svc";
    ActorHandle<Svc> a =
        newSvc(dir, true, ActorOptions.builder().name(name).maxRestarts(1).build());
    long firstPid = a.task(Svc::pid).remote().get(WAIT);
    assertThat(a.task(Svc::append, 7).remote().get(WAIT)).isEqualTo(1);

    ObjectRef<Integer> halted = a.task(Svc::halt).remote();
    awaitGone(firstPid, "the halted actor process");
    await("the constructor runs again").atMost(WAIT).until(() -> exists(dir, "constructed-1"));
    List<ObjectRef<Integer>> meanwhile = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      meanwhile.add(a.task(Svc::append, i).remote());
    }
    assertThat(Sluice.wait(meanwhile, 1, SETTLE).ready())
        .as("calls made while the actor restarts wait for it")
        .isEmpty();

    touch(dir, "restart-go");

    assertThat(getAll(meanwhile))
        .as("they run on the new instance (fresh state), in order")
        .containsExactly(1, 2, 3);
    assertThatThrownBy(() -> halted.get(WAIT))
        .as("the call in flight is not retried without maxTaskRetries")
        .isInstanceOf(ActorDiedException.class);
    long secondPid = a.task(Svc::pid).remote().get(WAIT);
    assertThat(secondPid).isNotEqualTo(firstPid);
    assertThat(a.task(Svc::generation).remote().get(WAIT)).isEqualTo(1);
    ActorHandle<Svc> byName = Sluice.getActor(name, Svc.class).orElseThrow();
    assertThat(byName.id()).isEqualTo(a.id());
    assertThat(byName.task(Svc::pid).remote().get(WAIT)).isEqualTo(secondPid);
  }

  @Test
  void withMaxTaskRetriesTheCallsInFlightAreRetriedInOrderOnTheRestartedInstance(
      @TempDir Path dir) {
    ActorHandle<Svc> a = newSvc(dir, false, restarts(1, 1));
    assertThat(a.task(Svc::append, -1).remote().get(WAIT)).isEqualTo(1);

    ObjectRef<Integer> halting = a.task(Svc::haltOnFirstInstance).remote();
    List<ObjectRef<Integer>> after = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      after.add(a.task(Svc::append, i).remote());
    }

    assertThat(halting.get(WAIT)).as("retried on the second instance").isEqualTo(1);
    assertThat(getAll(after))
        .as("each call ran once, in order, on the new instance")
        .isEqualTo(IntStream.rangeClosed(1, 20).boxed().toList());
    assertThat(a.task(Svc::seen).remote().get(WAIT))
        .isEqualTo(IntStream.range(0, 20).boxed().toList());
  }

  @Test
  void aRetriedGeneratorMethodDeliversNoItemTwice(@TempDir Path dir) {
    ActorHandle<Svc> a = newSvc(dir, false, restarts(1, 1));
    List<Integer> items = new ArrayList<>();
    try (ObjectRefGenerator<Integer> gen = a.generator(Svc::stream, 10, 5).remote()) {
      for (ObjectRef<Integer> ref : gen) {
        items.add(ref.get(WAIT));
      }
      assertThat(gen.completed().get(WAIT)).isNull();
    }
    assertThat(items).isEqualTo(IntStream.range(0, 10).boxed().toList());
    assertThat(exists(dir, "constructed-1")).as("the generator ran on a restarted actor").isTrue();
  }

  @Test
  void withNoRestartsLeftEveryPendingAndLaterCallFailsWithActorDiedProcessDied(@TempDir Path dir) {
    ActorHandle<Svc> a = newSvc(dir, false, restarts(1, 0));
    long firstPid = a.task(Svc::pid).remote().get(WAIT);
    ObjectRef<Integer> firstHalt = a.task(Svc::halt).remote();
    assertThatThrownBy(() -> firstHalt.get(WAIT)).isInstanceOf(ActorDiedException.class);
    long secondPid = a.task(Svc::pid).remote().get(WAIT);
    assertThat(secondPid).as("restarted once").isNotEqualTo(firstPid);

    ObjectRef<Integer> halting = a.task(Svc::halt).remote();
    ObjectRef<Integer> pending = a.task(Svc::append, 1).remote();

    assertDied(halting, ActorDiedException.Reason.PROCESS_DIED);
    assertDied(pending, ActorDiedException.Reason.PROCESS_DIED);
    assertDied(a.task(Svc::append, 2).remote(), ActorDiedException.Reason.PROCESS_DIED);
    try (ObjectRefGenerator<Integer> gen = a.generator(Svc::stream, 3, -1).remote()) {
      ObjectRef<Integer> only = gen.next(WAIT).orElseThrow();
      assertDied(only, ActorDiedException.Reason.PROCESS_DIED);
      assertThat(gen.hasNext()).as("the stream of a dead actor yields its failure once").isFalse();
      assertDied(gen.completed(), ActorDiedException.Reason.PROCESS_DIED);
    }
    assertThat(exists(dir, "constructed-2")).isFalse();
  }

  @Test
  void anOwnedActorCreatedByATaskOutlivesTheTaskButDiesWithItsWorkerProcess(@TempDir Path dir) {
    ActorHandle<Svc> a =
        Sluice.task(ActorFailureTest::createOwned, dir.toString()).remote().get(WAIT);
    created.add(a);
    long taskPid = pidIn(dir, "task-pid");
    long actorPid = a.task(Svc::pid).remote().get(WAIT);
    assertThat(a.task(Svc::append, 1).remote().get(WAIT))
        .as("the actor lives on after its creating task returned")
        .isEqualTo(1);

    ProcessHandle.of(taskPid).orElseThrow().destroyForcibly();
    awaitGone(taskPid, "the creating task's worker");
    // The node learns of the death asynchronously; once the actor table has the actor dead,
    // every call fails, naming the owner's death.
    await("the actor table records the owned actor dead")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                Sluice.state().actors(StateQuery.all().filter("actor_id", a.id().hex())).stream()
                    .anyMatch(s -> "DEAD".equals(s.state())));

    assertDied(a.task(Svc::append, 2).remote(), ActorDiedException.Reason.OWNER_DIED);
    awaitGone(actorPid, "the owned actor's process");
  }

  @Test
  void cpusHeldByAnActorReturnWhenItDies(@TempDir Path dir) {
    ActorHandle<Svc> a = newSvc(dir, false, ActorOptions.builder().numCpus(1).build());
    a.task(Svc::pid).remote().get(WAIT);
    ObjectRef<Long> task = Sluice.task(ActorFailureTest::myPid).remote();
    assertThat(Sluice.wait(List.of(task), 1, SETTLE).ready())
        .as("the node's only CPU is held by the actor")
        .isEmpty();

    Sluice.kill(a);

    assertThat(task.get(WAIT)).as("the task runs once the actor's CPU is back").isPositive();
  }
}
