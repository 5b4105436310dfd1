package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state API ({@link Sluice#state()}) on a real embedded cluster: tasks (one failing, one
 * retried), a stream, an actor and a stored object show up with the right states, counts and rates,
 * filters and limits apply, and the timeline has one slice per attempt.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class StateApiTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(SluiceConfig.builder().numCpus(2).build());
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  static int add(int a, int b) {
    return a + b;
  }

  static int boom(int a) {
    throw new IllegalStateException("boom " + a);
  }

  /** Fails its first attempt, succeeds on the retry. */
  static int flaky(int a) {
    if (Sluice.runtimeContext().attemptNumber() == 0) {
      throw new IllegalStateException("first attempt fails");
    }
    return a;
  }

  /** Yields n items, each after {@code pauseMillis} of work. */
  static Iterator<Integer> slow(int n, int pauseMillis) {
    return IntStream.range(0, n)
        .mapToObj(
            i -> {
              try {
                Thread.sleep(pauseMillis);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return i;
            })
        .iterator();
  }

  /** Returns {@code x} once {@code gate} exists (waits for it in short polls). */
  static int gated(String gate, int x) throws InterruptedException {
    while (!Files.exists(Path.of(gate))) {
      Thread.sleep(10);
    }
    return x;
  }

  public static class Counter {
    private int n;

    public int inc(int k) {
      return n += k;
    }
  }

  /**
   * Rule: task attempts are listed with their states (a failure with its error type, a retry as a
   * second attempt), counted by function and state, filtered and limited.
   */
  @Test
  void tasksAreListedSummarizedFilteredAndLimited(@TempDir Path dir) throws Exception {
    List<ObjectRef<Integer>> sums =
        IntStream.range(0, 3).mapToObj(i -> Sluice.task(StateApiTest::add, i, 1).remote()).toList();
    sums.forEach(ObjectRef::get);
    ObjectRef<Integer> failed = Sluice.task(StateApiTest::boom, 7).options(noRetry()).remote();
    assertThatThrownBy(failed::get).isInstanceOf(TaskException.class);
    ObjectRef<Integer> retried =
        Sluice.task(StateApiTest::flaky, 5)
            .options(TaskOptions.builder().maxRetries(1).retryExceptions(true).build())
            .remote();
    assertThat(retried.get()).isEqualTo(5);

    ClusterState state = Sluice.state();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              TaskSummary s = state.summarizeTasks();
              assertThat(s.count("StateApiTest.add", TaskStatus.FINISHED)).isEqualTo(3);
              assertThat(s.count("StateApiTest.boom", TaskStatus.FAILED)).isEqualTo(1);
              assertThat(s.count("StateApiTest.flaky", TaskStatus.FAILED)).isEqualTo(1);
              assertThat(s.count("StateApiTest.flaky", TaskStatus.FINISHED)).isEqualTo(1);
              assertThat(s.droppedEvents()).isZero();
            });

    TaskState boom =
        state.tasks(StateQuery.all().filter("task_id", failed.id().taskId().hex())).getFirst();
    assertThat(boom.state()).isEqualTo(TaskStatus.FAILED);
    assertThat(boom.errorType()).isEqualTo("TASK_EXECUTION_EXCEPTION");
    assertThat(boom.errorMessage()).contains("boom 7");
    assertThat(boom.type()).isEqualTo("NORMAL_TASK");
    assertThat(boom.jobId()).isEqualTo(Sluice.runtimeContext().jobId());

    // The executor reports where an attempt ran separately from its owner: wait for both.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              List<TaskState> flaky =
                  state.tasks(StateQuery.all().filter("task_id", retried.id().taskId().hex()));
              assertThat(flaky).extracting(TaskState::attemptNumber).containsExactly(0, 1);
              assertThat(flaky)
                  .extracting(TaskState::state)
                  .containsExactly(TaskStatus.FAILED, TaskStatus.FINISHED);
              TaskState done = flaky.get(1);
              assertThat(done.nodeId()).isNotNull();
              assertThat(done.workerId()).isNotNull();
              assertThat(done.submittedAt()).isNotNull();
              assertThat(done.startedAt()).isAfterOrEqualTo(done.submittedAt());
              assertThat(done.endedAt()).isAfterOrEqualTo(done.startedAt());
            });

    // Rule: filters compare as text ignoring case; the limit caps the rows.
    assertThat(state.tasks(StateQuery.all().filter("state", "failed")))
        .extracting(TaskState::functionName)
        .containsExactlyInAnyOrder("StateApiTest.boom", "StateApiTest.flaky");
    assertThat(state.tasks(StateQuery.all().filter("function_name", "StateApiTest.add").limit(2)))
        .hasSize(2);
    assertThat(state.tasks(StateQuery.all().filter("no_such_field", "x"))).isEmpty();

    // Rule: the timeline has one complete slice per attempt that ran.
    Path trace = dir.resolve("trace.json");
    state.timeline(trace);
    String json = Files.readString(trace);
    assertThat(json).startsWith("{\"traceEvents\":[");
    assertThat(count(json, "\"name\":\"StateApiTest.flaky\"")).isEqualTo(2);
    assertThat(count(json, "\"name\":\"StateApiTest.add\"")).isEqualTo(3);
  }

  /**
   * Rule: an attempt the owner holds while it waits for a lease is listed as
   * PENDING_NODE_ASSIGNMENT, one pushed to a busy worker as SUBMITTED_TO_WORKER (as Ray lists
   * them), not as still waiting for its arguments.
   */
  @Test
  void waitingAttemptsShowWhereTheyWait(@TempDir Path dir) throws Exception {
    Path gate = dir.resolve("gate");
    // Three gated tasks on two CPUs: at least one runs, at least one waits for a lease or behind a
    // running task on its worker.
    List<ObjectRef<Integer>> refs =
        IntStream.range(0, 3)
            .mapToObj(i -> Sluice.task(StateApiTest::gated, gate.toString(), i).remote())
            .toList();
    ClusterState state = Sluice.state();
    List<TaskStatus> waiting =
        List.of(TaskStatus.PENDING_NODE_ASSIGNMENT, TaskStatus.SUBMITTED_TO_WORKER);
    try {
      await()
          .atMost(WAIT)
          .untilAsserted(
              () -> {
                List<TaskStatus> states =
                    refs.stream()
                        .map(
                            r ->
                                state
                                    .tasks(
                                        StateQuery.all().filter("task_id", r.id().taskId().hex()))
                                    .stream()
                                    .map(TaskState::state)
                                    .findFirst()
                                    .orElse(null))
                        .toList();
                assertThat(states).doesNotContainNull().contains(TaskStatus.RUNNING);
                assertThat(states).anyMatch(waiting::contains);
                assertThat(states).allMatch(st -> st == TaskStatus.RUNNING || waiting.contains(st));
              });
    } finally {
      Files.createFile(gate);
    }
    assertThat(Sluice.get(refs)).containsExactly(0, 1, 2);
  }

  /**
   * Rule: a running stream is listed with its task, produced and consumed counts and a non-zero
   * rate; once consumed to the end it shows every item produced and consumed.
   */
  @Test
  void aRunningStreamShowsItsCountsAndRate() throws Exception {
    int items = 400;
    AtomicBoolean seenRunning = new AtomicBoolean();
    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(StateApiTest::slow, items, 25)
            .options(TaskOptions.builder().generatorBackpressureNumObjects(4).build())
            .remote()) {
      CompletableFuture<Integer> consumer =
          CompletableFuture.supplyAsync(
              () -> {
                int n = 0;
                for (ObjectRef<Integer> r : gen) {
                  r.get();
                  n++;
                }
                return n;
              });
      String streamId = gen.id().hex();
      await()
          .atMost(WAIT)
          .untilAsserted(
              () -> {
                List<StreamState> rows =
                    Sluice.state().streams(StateQuery.all().filter("stream_id", streamId));
                assertThat(rows).hasSize(1);
                StreamState s = rows.getFirst();
                assertThat(s.state()).isEqualTo("RUNNING");
                assertThat(s.functionName()).isEqualTo("StateApiTest.slow");
                assertThat(s.taskId()).isEqualTo(gen.id().taskId());
                assertThat(s.backpressureWindow()).isEqualTo(4);
                assertThat(s.itemsConsumed()).isPositive();
                assertThat(s.itemsProduced()).isGreaterThanOrEqualTo(s.itemsConsumed());
                assertThat(s.producedPerSecond()).isPositive();
                assertThat(s.consumedPerSecond()).isPositive();
                assertThat(s.ownerWorkerId()).isEqualTo(Sluice.runtimeContext().workerId());
                seenRunning.set(true);
              });
      assertThat(consumer.get(2, TimeUnit.MINUTES)).isEqualTo(items);
      await()
          .atMost(WAIT)
          .untilAsserted(
              () -> {
                StreamState s =
                    Sluice.state()
                        .streams(StateQuery.all().filter("stream_id", streamId))
                        .getFirst();
                assertThat(s.state()).isEqualTo("FINISHED");
                assertThat(s.itemsProduced()).isEqualTo(items);
                assertThat(s.itemsConsumed()).isEqualTo(items);
                assertThat(s.itemsHeld()).isZero();
              });
    }
    assertThat(seenRunning).isTrue();
  }

  /** Rule: nodes, workers, store objects and actors are listed from what the cluster knows. */
  @Test
  void nodesWorkersObjectsAndActorsAreListed() {
    ClusterState state = Sluice.state();
    List<NodeState> nodes = state.nodes();
    assertThat(nodes).hasSize(1);
    NodeState node = nodes.getFirst();
    assertThat(node.nodeId()).isEqualTo(Sluice.runtimeContext().nodeId());
    assertThat(node.state()).isEqualTo("ALIVE");
    assertThat(node.head()).isTrue();
    assertThat(node.resourcesTotal()).containsEntry("CPU", 2.0);

    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(state.workers())
                    .isNotEmpty()
                    .allSatisfy(w -> assertThat(w.nodeId()).isEqualTo(node.nodeId()))
                    .allSatisfy(w -> assertThat(w.pid()).isPositive()));

    ObjectRef<byte[]> big = Sluice.put(new byte[1 << 20]);
    List<ObjectState> objects = state.objects(StateQuery.all().filter("object_id", big.id().hex()));
    assertThat(objects).hasSize(1);
    assertThat(objects.getFirst().state()).isEqualTo("SEALED");
    assertThat(objects.getFirst().sizeBytes()).isGreaterThanOrEqualTo(1 << 20);
    assertThat(objects.getFirst().nodeId()).isEqualTo(node.nodeId());

    ActorHandle<Counter> counter =
        Sluice.actor(Counter::new)
            .options(ActorOptions.builder().name("state-counter").build())
            .remote();
    assertThat(counter.task(Counter::inc, 2).remote().get()).isEqualTo(2);
    List<ActorState> actors = state.actors(StateQuery.all().filter("name", "state-counter"));
    assertThat(actors).hasSize(1);
    assertThat(actors.getFirst().state()).isEqualTo("ALIVE");
    assertThat(actors.getFirst().actorId()).isEqualTo(counter.id());
    assertThat(actors.getFirst().className()).endsWith("Counter");
    Sluice.kill(counter);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(state.actors(StateQuery.all().filter("actor_id", counter.id().hex())))
                    .singleElement()
                    .satisfies(a -> assertThat(a.state()).isEqualTo("DEAD"))
                    .satisfies(a -> assertThat(a.deathCause()).isNotBlank()));
  }

  private static TaskOptions noRetry() {
    return TaskOptions.builder().maxRetries(0).build();
  }

  private static int count(String s, String part) {
    int n = 0;
    for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }
}
