package dev.sluice.runtime.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.ActorDiedException;
import dev.sluice.ActorId;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.proto.ActorCallSpec;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.ActorState;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The caller's side of the actor call order rule and of actor failures (DESIGN "Actors"), decided
 * against fakes: a connector whose streams record what is sent, a task manager that retries like
 * the real one, and a resolver the test completes.
 */
class ActorClientTest {
  private static final ActorId ACTOR = ActorId.fromBytes(filled((byte) 0x5a));
  private static final ByteString CALLER = ByteString.copyFromUtf8("caller-worker");

  private final List<FakeStream> streams = new ArrayList<>();
  private final FakeTaskManager tm = new FakeTaskManager();
  private final FakeResolver resolver = new FakeResolver(tm);
  private final ActorClient client =
      new ActorClient(ACTOR, CALLER, this::open, tm, resolver::resolve);

  {
    tm.client = client;
  }

  /** Instances whose worker is gone: a stream opened to one breaks on its first send. */
  private final Set<Integer> deadInstances = new HashSet<>();

  private long version;

  // ---------------------------------------------------------------- fakes

  private static byte[] filled(byte b) {
    byte[] out = new byte[TaskId.LENGTH];
    Arrays.fill(out, b);
    return out;
  }

  private static TaskId id(int n) {
    return TaskId.fromBytes(ByteBuffer.allocate(TaskId.LENGTH).putInt(4, n + 1).array());
  }

  /** A call as the task manager records it: it names its actor but has no number yet. */
  private static TaskSpec call(int n) {
    return TaskSpec.newBuilder()
        .setTaskId(ByteString.copyFrom(id(n).toBytes()))
        .setDisplayName("Counter.add#" + n)
        .setActorCall(ActorCallSpec.newBuilder().setActorId(ByteString.copyFrom(ACTOR.toBytes())))
        .build();
  }

  private static TaskId idOf(TaskSpec spec) {
    return TaskId.fromBytes(spec.getTaskId().toByteArray());
  }

  private ActorInfo entry(ActorState state, int instance) {
    ActorInfo.Builder b =
        ActorInfo.newBuilder()
            .setActorId(ByteString.copyFrom(ACTOR.toBytes()))
            .setClassName("Counter")
            .setState(state)
            .setNumRestarts(instance)
            .setVersion(++version);
    if (state == ActorState.ACTOR_STATE_ALIVE) {
      b.setAddress(
          Address.newBuilder()
              .setWorkerId(ByteString.copyFromUtf8("w" + instance))
              .setHost("host-" + instance)
              .setPort(1));
    }
    return b.build();
  }

  private void table(ActorState state, int instance) {
    client.onInfo(entry(state, instance));
  }

  private ErrorInfo killed() {
    return Errors.actorDied(
        ActorDiedException.Reason.KILLED, "actor Counter was killed by Sluice.kill", null);
  }

  private void tableDead(ErrorInfo cause) {
    client.onInfo(entry(ActorState.ACTOR_STATE_DEAD, 0).toBuilder().setDeathCause(cause).build());
  }

  private ActorClient.CallStream open(ActorInfo alive, ActorClient.Listener listener) {
    assertThat(alive.getState()).isEqualTo(ActorState.ACTOR_STATE_ALIVE);
    FakeStream s = new FakeStream(alive.getNumRestarts(), listener, deadInstances);
    streams.add(s);
    return s;
  }

  private FakeStream stream() {
    assertThat(streams).isNotEmpty();
    return streams.getLast();
  }

  /** One stream to one instance: what was sent, cancelled, and whether it was closed. */
  private static final class FakeStream implements ActorClient.CallStream {
    final int instance;
    final Set<Integer> deadInstances;
    final ActorClient.Listener listener;
    final List<TaskSpec> sent = new ArrayList<>();
    final List<Long> marks = new ArrayList<>();
    final List<TaskId> cancels = new ArrayList<>();
    boolean closed;
    Runnable onClose = () -> {};

    FakeStream(int instance, ActorClient.Listener listener, Set<Integer> deadInstances) {
      this.instance = instance;
      this.listener = listener;
      this.deadInstances = deadInstances;
    }

    @Override
    public void send(List<TaskSpec> calls, long processedUpTo) {
      assertThat(closed).as("send on a closed stream").isFalse();
      sent.addAll(calls);
      marks.add(processedUpTo);
      if (deadInstances.contains(instance)) {
        listener.broken(new IOException("connection refused"));
      }
    }

    @Override
    public void cancel(TaskId id) {
      cancels.add(id);
    }

    @Override
    public void close() {
      closed = true;
      onClose.run();
    }

    List<Long> numbers() {
      return sent.stream().map(s -> s.getActorCall().getSequenceNumber()).toList();
    }

    List<TaskId> ids() {
      return sent.stream().map(ActorClientTest::idOf).toList();
    }

    long lastMark() {
      return marks.getLast();
    }

    void finish(int n) {
      listener.finished(id(n), PushTaskReply.getDefaultInstance());
    }

    void breaks() {
      listener.broken(new IOException("stream reset"));
    }
  }

  /** The task manager's part: records outcomes, and retries a retriable failure as it does. */
  private static final class FakeTaskManager implements ActorClient.Outcomes {
    ActorClient client;
    final Map<TaskId, TaskSpec> pending = new HashMap<>();
    final Map<TaskId, Integer> retriesLeft = new HashMap<>();
    final Map<TaskId, List<String>> outcomes = new LinkedHashMap<>();
    final Map<TaskId, ErrorInfo> errors = new HashMap<>();

    /** Records call {@code n} (as the real task manager does first) and submits it. */
    void submit(int n, int retries) {
      TaskSpec spec = call(n);
      pending.put(idOf(spec), spec);
      retriesLeft.put(idOf(spec), retries);
      client.submit(spec);
    }

    void submit(int n) {
      submit(n, 0);
    }

    @Override
    public void complete(TaskId id, PushTaskReply reply) {
      outcomes.computeIfAbsent(id, k -> new ArrayList<>()).add("completed");
      pending.remove(id);
    }

    @Override
    public void fail(TaskId id, ErrorInfo error, boolean retriable) {
      TaskSpec spec = pending.get(id);
      if (spec == null) {
        return;
      }
      int left = retriesLeft.get(id);
      if (retriable && left > 0) {
        retriesLeft.put(id, left - 1);
        TaskSpec retry = spec.toBuilder().setAttemptNumber(spec.getAttemptNumber() + 1).build();
        pending.put(id, retry);
        client.resubmit(retry);
        return;
      }
      pending.remove(id);
      outcomes.computeIfAbsent(id, k -> new ArrayList<>()).add("failed");
      errors.put(id, error);
    }

    @Override
    public boolean isPending(TaskId id) {
      return pending.containsKey(id);
    }

    List<String> outcomesOf(int n) {
      return outcomes.getOrDefault(id(n), List.of());
    }
  }

  /** Resolves at once unless told to hold; held resolutions are completed by the test. */
  private static final class FakeResolver {
    final FakeTaskManager tm;
    boolean hold;
    final Map<TaskId, Consumer<TaskSpec>> ready = new LinkedHashMap<>();
    final Map<TaskId, TaskSpec> specs = new HashMap<>();
    final Map<TaskId, Runnable> failed = new HashMap<>();

    FakeResolver(FakeTaskManager tm) {
      this.tm = tm;
    }

    void resolve(TaskSpec spec, Consumer<TaskSpec> then, Runnable onFailure) {
      if (!hold) {
        then.accept(spec);
        return;
      }
      TaskId id = idOf(spec);
      ready.put(id, then);
      specs.put(id, spec);
      failed.put(id, onFailure);
    }

    void ready(int n) {
      ready(id(n));
    }

    void ready(TaskId id) {
      failed.remove(id);
      ready.remove(id).accept(specs.remove(id));
    }

    /** An argument failed: the real resolver fails the task in the task manager, then says so. */
    void fail(int n) {
      fail(id(n));
    }

    void fail(TaskId id) {
      ready.remove(id);
      specs.remove(id);
      tm.fail(
          id, Errors.error(ErrorType.OBJECT_LOST, "an argument of call " + id + " failed"), false);
      failed.remove(id).run();
    }
  }

  // ---------------------------------------------------------------- the rules

  @Test
  void callsWaitWhileTheActorIsPending() {
    table(ActorState.ACTOR_STATE_PENDING, 0);
    tm.submit(0);
    tm.submit(1);
    assertThat(streams).isEmpty();
    assertThat(tm.outcomes).isEmpty();

    table(ActorState.ACTOR_STATE_ALIVE, 0);
    assertThat(streams).hasSize(1);
    assertThat(stream().ids()).containsExactly(id(0), id(1));
  }

  @Test
  void callsAreNumberedFromZeroInSubmissionOrder() {
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    for (int n = 0; n < 5; n++) {
      tm.submit(n);
    }
    assertThat(stream().ids()).containsExactly(id(0), id(1), id(2), id(3), id(4));
    assertThat(stream().numbers()).containsExactly(0L, 1L, 2L, 3L, 4L);
    assertThat(stream().sent)
        .allSatisfy(
            s -> {
              assertThat(s.getActorCall().getCallerId()).isEqualTo(CALLER);
              assertThat(s.getActorCall().getActorId())
                  .isEqualTo(ByteString.copyFrom(ACTOR.toBytes()));
            });
  }

  @Test
  void aCallIsSentOnlyOnceItsArgumentsAreReady() {
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    resolver.hold = true;
    tm.submit(0);
    tm.submit(1);
    tm.submit(2);
    assertThat(streams.isEmpty() || stream().sent.isEmpty()).isTrue();

    resolver.ready(2);
    resolver.ready(0);
    resolver.ready(1);
    client.pump();
    client.pump();

    assertThat(stream().ids()).containsExactly(id(2), id(0), id(1));
    assertThat(stream().numbers()).containsExactly(2L, 0L, 1L);
  }

  @Test
  void processedUpToCoversFinishedAndNeverSentCalls() {
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    tm.submit(0);
    assertThat(stream().lastMark()).isZero();
    stream().finish(0);
    tm.submit(1);
    assertThat(stream().lastMark()).as("call 0 finished").isEqualTo(1);

    resolver.hold = true;
    tm.submit(2); // never sent: its argument fails
    tm.submit(3);
    resolver.ready(3);
    assertThat(stream().lastMark()).as("calls 1 and 2 have no outcome").isEqualTo(1);
    resolver.fail(2);
    stream().finish(1);
    assertThat(stream().lastMark())
        .as("1 finished and 2 will never be sent: the instance must hear it to run 3")
        .isEqualTo(3);
  }

  @Test
  void cancelOfAnUnsentCallFailsItAndMovesTheMarkPastIt() {
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    tm.submit(0);
    resolver.hold = true;
    tm.submit(1);
    tm.submit(2);
    resolver.ready(2);
    assertThat(stream().ids()).containsExactly(id(0), id(2));

    ErrorInfo cancelled = Errors.error(ErrorType.TASK_CANCELLED, "call 1 was cancelled");
    assertThat(client.cancel(id(1), cancelled)).isTrue();
    assertThat(tm.outcomesOf(1)).containsExactly("failed");
    assertThat(tm.errors.get(id(1)).getType()).isEqualTo(ErrorType.TASK_CANCELLED);
    assertThat(stream().cancels).as("never sent, so nothing to cancel remotely").isEmpty();

    stream().finish(0);
    assertThat(stream().lastMark()).as("0 finished, 1 never sent: 2 may run").isEqualTo(2);

    resolver.ready(1); // a late resolution of the cancelled call sends nothing
    assertThat(stream().ids()).containsExactly(id(0), id(2));
  }

  @Test
  void cancelOfASentCallIsSentInBand() {
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    tm.submit(0);
    ErrorInfo cancelled = Errors.error(ErrorType.TASK_CANCELLED, "call 0 was cancelled");

    assertThat(client.cancel(id(0), cancelled)).isTrue();
    assertThat(stream().cancels).containsExactly(id(0));
    assertThat(tm.outcomes).as("the instance answers for a sent call").isEmpty();

    stream().finish(0);
    assertThat(tm.outcomesOf(0)).containsExactly("completed");
    assertThat(client.cancel(id(0), cancelled)).as("already has its outcome").isFalse();
  }

  @Test
  void aBrokenStreamWaitsForTheTable() {
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    tm.submit(0, 1);
    deadInstances.add(0);
    stream().breaks();
    tm.submit(1); // no retries: it must not be spent on the instance whose stream broke

    assertThat(tm.outcomes).as("a broken stream alone fails nothing").isEmpty();
    assertThat(streams).as("nothing more goes to the broken instance").hasSize(1);
    assertThat(client.numCalls()).isEqualTo(2);

    table(ActorState.ACTOR_STATE_RESTARTING, 1);
    assertThat(tm.outcomes).isEmpty();
    table(ActorState.ACTOR_STATE_ALIVE, 1);
    assertThat(stream().instance).isEqualTo(1);
    assertThat(stream().ids()).containsExactly(id(0), id(1));
    stream().finish(0);
    stream().finish(1);
    assertThat(tm.outcomesOf(0)).containsExactly("completed");
    assertThat(tm.outcomesOf(1)).containsExactly("completed");
  }

  @Test
  void callsInFlightAreRetriedOnTheNewInstanceInTheirOrder() {
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    for (int n = 0; n < 4; n++) {
      tm.submit(n, 1);
    }
    stream().finish(0);
    stream().breaks();
    table(ActorState.ACTOR_STATE_RESTARTING, 1);
    assertThat(tm.outcomes.keySet()).containsExactly(id(0));
    table(ActorState.ACTOR_STATE_ALIVE, 1);

    FakeStream second = stream();
    assertThat(second.instance).isEqualTo(1);
    assertThat(second.ids()).containsExactly(id(1), id(2), id(3));
    assertThat(second.numbers()).as("each keeps its number").containsExactly(1L, 2L, 3L);
    assertThat(second.sent).allSatisfy(s -> assertThat(s.getAttemptNumber()).isEqualTo(1));
    assertThat(second.sent)
        .allSatisfy(s -> assertThat(s.getActorCall().getCallerId()).isEqualTo(CALLER));
    assertThat(second.marks.getFirst()).isEqualTo(1);

    for (int n = 1; n < 4; n++) {
      second.finish(n);
    }
    for (int n = 0; n < 4; n++) {
      assertThat(tm.outcomesOf(n)).containsExactly("completed");
    }
  }

  @Test
  void callsInFlightFailWithoutRetriesLeft() {
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    tm.submit(0);
    stream().breaks();
    table(ActorState.ACTOR_STATE_RESTARTING, 1);

    assertThat(tm.outcomesOf(0)).containsExactly("failed");
    ErrorInfo e = tm.errors.get(id(0));
    assertThat(e.getType()).isEqualTo(ErrorType.ACTOR_DIED);
    assertThat(Errors.actorDiedReason(e)).isEqualTo(ActorDiedException.Reason.PROCESS_DIED);
    assertThat(e.getMessage()).contains(id(0).toString()).contains("Counter");

    tm.submit(1);
    table(ActorState.ACTOR_STATE_ALIVE, 1);
    assertThat(stream().ids()).containsExactly(id(1));
    assertThat(stream().lastMark()).as("the failed call is behind the mark").isEqualTo(1);
  }

  @Test
  void aNewerInstanceInTheTableRetiresTheOldStream() {
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    tm.submit(0, 1);
    FakeStream old = stream();

    table(ActorState.ACTOR_STATE_ALIVE, 1); // the table moved on before the stream broke
    assertThat(old.closed).isTrue();
    FakeStream fresh = stream();
    assertThat(fresh).isNotSameAs(old);
    assertThat(fresh.instance).isEqualTo(1);
    assertThat(fresh.ids()).containsExactly(id(0));

    old.finish(0); // a late word from the old instance counts for nothing
    old.breaks();
    assertThat(tm.outcomes).isEmpty();
    assertThat(fresh.closed).isFalse();
    fresh.finish(0);
    assertThat(tm.outcomesOf(0)).containsExactly("completed");
  }

  @Test
  void deadActorFailsEveryPendingAndLaterCallWithItsCause() {
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    tm.submit(0);
    resolver.hold = true;
    tm.submit(1);
    ErrorInfo cause = killed();

    tableDead(cause);
    assertThat(stream().closed).isTrue();
    assertThat(tm.outcomesOf(0)).containsExactly("failed");
    assertThat(tm.outcomesOf(1)).containsExactly("failed");
    assertThat(tm.errors.get(id(0))).isEqualTo(cause);
    assertThat(tm.errors.get(id(1))).isEqualTo(cause);

    tm.submit(2);
    assertThat(tm.outcomesOf(2)).containsExactly("failed");
    assertThat(tm.errors.get(id(2))).isEqualTo(cause);
    resolver.ready(1);
    assertThat(streams).hasSize(1);
    assertThat(stream().ids()).containsExactly(id(0));
    assertThat(client.numCalls()).isZero();
  }

  /**
   * Its submitter retires a dead actor's client (and stops following it) once calls have failed.
   */
  @Test
  void onDeadRunsOnceTheActorIsDeadAndItsCallsHaveFailed() {
    List<String> seen = new ArrayList<>();
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    tm.submit(0);
    client.onDead(() -> seen.add("retired with outcomes " + tm.outcomesOf(0)));
    assertThat(seen).isEmpty();

    tableDead(killed());
    assertThat(seen).containsExactly("retired with outcomes [failed]");
    client.onDead(() -> seen.add("at once"));
    assertThat(seen).endsWith("at once");
  }

  @Test
  void staleTableVersionsAreIgnored() {
    ActorInfo restarting = entry(ActorState.ACTOR_STATE_RESTARTING, 1);
    ActorInfo dead =
        entry(ActorState.ACTOR_STATE_DEAD, 1).toBuilder().setDeathCause(killed()).build();
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    tm.submit(0);

    client.onInfo(restarting);
    client.onInfo(dead);
    assertThat(stream().closed).isFalse();
    assertThat(tm.outcomes).isEmpty();
    tm.submit(1);
    assertThat(stream().ids()).containsExactly(id(0), id(1));
  }

  @Test
  void aFailedArgumentFailsOnlyThatCall() {
    table(ActorState.ACTOR_STATE_ALIVE, 0);
    resolver.hold = true;
    tm.submit(0);
    tm.submit(1);
    tm.submit(2);
    resolver.ready(0);
    resolver.fail(1);
    resolver.ready(2);

    assertThat(tm.outcomesOf(1)).containsExactly("failed");
    assertThat(tm.errors.get(id(1)).getType()).isEqualTo(ErrorType.OBJECT_LOST);
    assertThat(stream().ids()).containsExactly(id(0), id(2));
    stream().finish(0);
    assertThat(stream().lastMark()).as("1 will never be sent: it must not hold 2").isEqualTo(2);
    stream().finish(2);
    assertThat(tm.outcomesOf(0)).containsExactly("completed");
    assertThat(tm.outcomesOf(2)).containsExactly("completed");
    assertThat(client.numCalls()).isZero();
  }

  @Test
  void aStreamClosedAfterLosingARaceToOpenDoesNotRetireTheOneKept() {
    // Another thread pumps while this one opens: both open a stream to instance 0; the one that
    // finishes opening second closes its own, and the worker answers that close by ending it.
    FakeTaskManager outcomes = new FakeTaskManager();
    ActorClient[] racing = new ActorClient[1];
    racing[0] =
        new ActorClient(
            ACTOR,
            CALLER,
            (alive, listener) -> {
              FakeStream s = (FakeStream) open(alive, listener);
              s.onClose = s::breaks;
              if (streams.size() == 1) {
                racing[0].pump();
              }
              return s;
            },
            outcomes,
            new FakeResolver(outcomes)::resolve);
    outcomes.client = racing[0];
    outcomes.submit(0, 0);
    racing[0].onInfo(entry(ActorState.ACTOR_STATE_ALIVE, 0));

    assertThat(streams).hasSize(2);
    FakeStream lost = streams.get(0);
    FakeStream kept = streams.get(1);
    assertThat(lost.closed).isTrue();
    assertThat(kept.closed).as("the stream kept stays open").isFalse();
    assertThat(kept.ids()).containsExactly(id(0));
    kept.finish(0);
    assertThat(outcomes.outcomesOf(0)).containsExactly("completed");
  }

  /**
   * Random readiness, cancels, stream breaks and restarts (retries allowed) against an actor that
   * runs one call at a time strictly by number, as the actor call order rule says: every call gets
   * exactly one outcome, no instance receives a number twice, and the instance is never left
   * waiting for a number that will not come.
   */
  @Test
  void randomInterleavingsKeepEveryCallExactlyOnceAndInOrder() {
    int retriedAndRan = 0;
    for (long seed = 1; seed <= 300; seed++) {
      retriedAndRan += new Runner(seed).run();
    }
    assertThat(retriedAndRan).as("the runs exercise retries that complete").isPositive();
  }

  /** One instance of the actor running a caller's calls one at a time, strictly by number. */
  private static final class SimActor {
    final TreeMap<Long, TaskId> held = new TreeMap<>();
    final Set<Long> received = new HashSet<>();
    long next;
  }

  /** Drives one seeded run against its own client. */
  private static final class Runner {
    final long seed;
    final Random rnd;
    final List<FakeStream> opened = new ArrayList<>();
    final FakeTaskManager model = new FakeTaskManager();
    final FakeResolver args = new FakeResolver(model);
    final Set<Integer> deadOnes = new HashSet<>();
    final Map<Integer, SimActor> actors = new HashMap<>();
    final Map<TaskId, Long> numberOf = new HashMap<>();
    final List<String> trace = new ArrayList<>();
    final ActorClient c;
    long version;
    int instance;
    ActorState state = ActorState.ACTOR_STATE_PENDING;
    int submitted;
    int retriedAndRan;

    Runner(long seed) {
      this.seed = seed;
      this.rnd = new Random(seed);
      args.hold = true;
      c =
          new ActorClient(
              ACTOR,
              CALLER,
              (alive, listener) -> {
                FakeStream s = new FakeStream(alive.getNumRestarts(), listener, deadOnes);
                opened.add(s);
                return s;
              },
              model,
              args::resolve);
      model.client = c;
    }

    void publish(ActorState s, int inst) {
      trace.add("table " + s + " " + inst);
      state = s;
      instance = inst;
      ActorInfo.Builder b =
          ActorInfo.newBuilder()
              .setActorId(ByteString.copyFrom(ACTOR.toBytes()))
              .setClassName("Counter")
              .setState(s)
              .setNumRestarts(inst)
              .setVersion(++version);
      if (s == ActorState.ACTOR_STATE_ALIVE) {
        b.setAddress(Address.newBuilder().setHost("h" + inst).setPort(1));
      }
      c.onInfo(b.build());
    }

    /** The table says an instance is alive: the one being created, or a new one. */
    void bringUp() {
      boolean fresh = state == ActorState.ACTOR_STATE_ALIVE;
      publish(ActorState.ACTOR_STATE_ALIVE, fresh ? instance + 1 : instance);
    }

    FakeStream live() {
      if (opened.isEmpty()) {
        return null;
      }
      FakeStream s = opened.getLast();
      return s.closed || deadOnes.contains(s.instance) ? null : s;
    }

    /**
     * The live instance takes in what was sent to it and runs what its order allows (all of it when
     * {@code runAll}); returns whether it ran a call.
     */
    boolean actorStep(boolean runAll) {
      boolean ran = false;
      while (true) {
        FakeStream s = live();
        if (s == null) {
          return ran;
        }
        SimActor a = actors.computeIfAbsent(s.instance, k -> new SimActor());
        for (TaskSpec spec : s.sent) {
          long n = spec.getActorCall().getSequenceNumber();
          TaskId id = idOf(spec);
          Long before = numberOf.putIfAbsent(id, n);
          assertThat(before == null || before == n)
              .as("seed %d: call %s keeps its number", seed, id)
              .isTrue();
          assertThat(a.received.add(n))
              .as("seed %d: number %d sent once to instance %d", seed, n, s.instance)
              .isTrue();
          a.held.put(n, id);
        }
        for (TaskSpec spec : s.sent) {
          assertThat(spec.getActorCall().getSequenceNumber())
              .as("seed %d: a call sent is not behind the mark sent with it", seed)
              .isGreaterThanOrEqualTo(s.marks.getLast());
        }
        s.sent.clear();
        long mark = s.marks.stream().mapToLong(Long::longValue).max().orElse(0);
        a.next = Math.max(a.next, mark);
        assertThat(a.held.headMap(a.next))
            .as("seed %d: the mark passed calls the instance holds", seed)
            .isEmpty();
        TaskId head = a.held.remove(a.next);
        if (head == null) {
          return ran;
        }
        trace.add("instance " + s.instance + " ran #" + a.next + " " + head);
        if (model.pending.containsKey(head) && model.pending.get(head).getAttemptNumber() > 0) {
          retriedAndRan++;
        }
        a.next++;
        ran = true;
        s.listener.finished(head, PushTaskReply.getDefaultInstance());
        if (!runAll && rnd.nextBoolean()) {
          return ran;
        }
      }
    }

    void readyOne(boolean fail) {
      List<TaskId> waiting = new ArrayList<>(args.ready.keySet());
      if (waiting.isEmpty()) {
        return;
      }
      TaskId id = waiting.get(rnd.nextInt(waiting.size()));
      trace.add((fail ? "argument failed " : "ready ") + id);
      if (fail) {
        args.fail(id);
      } else {
        args.ready(id);
      }
    }

    /** Runs and checks; returns how many calls completed on a later attempt. */
    int run() {
      int steps = 60 + rnd.nextInt(60);
      for (int i = 0; i < steps; i++) {
        switch (rnd.nextInt(10)) {
          case 0, 1 -> {
            int n = submitted++;
            trace.add("submit " + id(n));
            model.submit(n, 1000);
          }
          case 2, 3 -> readyOne(false);
          case 4, 5 -> actorStep(false);
          case 6 -> {
            // The current instance's worker dies: its stream may break before the table knows.
            if (state == ActorState.ACTOR_STATE_ALIVE && !deadOnes.contains(instance)) {
              deadOnes.add(instance);
              trace.add("worker of instance " + instance + " died");
              FakeStream s = opened.isEmpty() ? null : opened.getLast();
              if (s != null && !s.closed && rnd.nextBoolean()) {
                trace.add("stream to " + s.instance + " broke");
                s.breaks();
              }
              if (rnd.nextBoolean()) {
                publish(ActorState.ACTOR_STATE_RESTARTING, instance + 1);
              }
            }
          }
          case 7 -> {
            if (state != ActorState.ACTOR_STATE_ALIVE || deadOnes.contains(instance)) {
              bringUp();
            }
          }
          case 8 -> {
            List<TaskId> open = new ArrayList<>(model.pending.keySet());
            if (!open.isEmpty()) {
              TaskId id = open.get(rnd.nextInt(open.size()));
              trace.add("cancel " + id);
              c.cancel(id, Errors.error(ErrorType.TASK_CANCELLED, "cancelled " + id));
            }
          }
          case 9 -> readyOne(true);
          default -> throw new AssertionError();
        }
      }
      // Settle: every argument ready, a live instance, and the actor runs all it can.
      if (state != ActorState.ACTOR_STATE_ALIVE || deadOnes.contains(instance)) {
        bringUp();
      }
      boolean progress = true;
      while (progress) {
        progress = !args.ready.isEmpty();
        while (!args.ready.isEmpty()) {
          readyOne(false);
        }
        progress |= actorStep(true);
      }
      for (int n = 0; n < submitted; n++) {
        assertThat(model.outcomesOf(n))
            .as(
                "seed %d: call %d has exactly one outcome; trace:%n%s",
                seed, n, String.join("\n", trace))
            .hasSize(1);
      }
      assertThat(model.pending).as("seed %d", seed).isEmpty();
      assertThat(c.numCalls()).as("seed %d", seed).isZero();
      return retriedAndRan;
    }
  }
}
