package dev.sluice.runtime.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.sluice.ActorDiedException;
import dev.sluice.ActorId;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.common.TaskContext;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.rpc.proto.ActorCallSpec;
import dev.sluice.runtime.rpc.proto.ActorCreationSpec;
import dev.sluice.runtime.rpc.proto.ActorLifetime;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.FunctionDescriptor;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturns;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturnsReply;
import dev.sluice.runtime.rpc.proto.TaskArg;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.serial.ObjectSerializer;
import io.grpc.stub.StreamObserver;
import java.lang.invoke.MethodHandleInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The host side of an actor in its worker (DESIGN "Actors"), through the worker's real task streams
 * and receiver with a fake process around them: the constructor's outcome is the creation's reply;
 * calls run on the instance in each caller's order (the actor call order rule), with the actor's id
 * in their context; cancels, async methods, generator methods whose consumer closed the stream,
 * callers and creators that went away, and {@code ExitActor}.
 */
class ActorHostTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final TaskId DRIVER = TaskId.forDriver(JobId.of(7));
  private static final TaskId CREATION = TaskId.forChild(DRIVER, 1);
  private static final ActorId ACTOR = ActorId.of(CREATION);
  private static final WorkerId CALLER = WorkerId.random();
  private static final Address CREATOR =
      Address.newBuilder()
          .setWorkerId(ByteString.copyFrom(WorkerId.random().toBytes()))
          .setNodeId(ByteString.copyFrom(NodeId.random().toBytes()))
          .build();

  /** What the actor's methods see and how the test steers them; reset for each test. */
  static volatile FakeEnv env;

  static volatile CountDownLatch release = new CountDownLatch(0);
  static final List<String> log = new CopyOnWriteArrayList<>();
  static volatile CompletableFuture<Integer> later;
  static final AtomicBoolean iteratorClosed = new AtomicBoolean();

  private final ObjectSerializer serializer = new ObjectSerializer(List.of(), null);
  private final FakeEnv fake = new FakeEnv(serializer);
  private final List<Boolean> exits = new CopyOnWriteArrayList<>();
  private final TaskReceiver receiver = new TaskReceiver(fake, serializer, exits::add);
  private final Wire creatorWire = new Wire();
  private final Wire callerWire = new Wire();
  private final TaskStream creatorStream =
      new TaskStream(receiver, creatorWire, Runnable::run, 1 << 20);
  private final TaskStream callerStream =
      new TaskStream(receiver, callerWire, Runnable::run, 1 << 20);
  private int nextTask = 100;

  ActorHostTest() {
    env = fake;
    release = new CountDownLatch(0);
    log.clear();
    iteratorClosed.set(false);
  }

  @AfterEach
  void stop() {
    release.countDown();
    receiver.stop();
  }

  /** The actor's class: a counter whose methods the test steers through static fields. */
  public static final class Counter {
    private int n;

    public Counter(int start) {
      if (start < 0) {
        throw new IllegalArgumentException("negative start " + start);
      }
      n = start;
      log.add("init:" + env.currentTask().actorId().map(ActorId::toString).orElse("none"));
    }

    public int add(int k) throws InterruptedException {
      log.add("add:" + k);
      release.await();
      n += k;
      return n;
    }

    public String whoAmI() {
      return env.currentTask().actorId().map(ActorId::toString).orElse("none");
    }

    public CompletionStage<Integer> addLater(int k) {
      log.add("addLater:" + k);
      return later.thenApply(v -> n += v + k);
    }

    public Iterator<Integer> count(int from) {
      return new CountingIterator(from);
    }
  }

  /** An endless iterator that records being closed. */
  public static final class CountingIterator implements Iterator<Integer>, AutoCloseable {
    private int next;

    CountingIterator(int from) {
      next = from;
    }

    @Override
    public boolean hasNext() {
      return true;
    }

    @Override
    public Integer next() {
      return next++;
    }

    @Override
    public void close() {
      iteratorClosed.set(true);
    }
  }

  // ------------------------------------------------------------------ tests

  /** Rule: the constructor's success is an empty reply, and the instance serves the calls. */
  @Test
  void theConstructorRunsOnceAndItsInstanceServesCalls() {
    create(1, ActorLifetime.ACTOR_LIFETIME_OWNED, 5);
    PushTaskReply created = creatorWire.awaitReply(CREATION);
    assertThat(created.getReturnsCount()).isZero();
    assertThat(log).containsExactly("init:" + ACTOR);

    TaskId a = send(callerStream, 0, 0, "add", "(I)I", false, 2);
    TaskId b = send(callerStream, 1, 0, "add", "(I)I", false, 3);

    assertThat(value(callerWire.awaitReply(a))).isEqualTo(7);
    assertThat(value(callerWire.awaitReply(b))).isEqualTo(10);
  }

  /** Rule: a constructor that throws answers with an application error naming its exception. */
  @Test
  void aConstructorThatThrowsAnswersWithAnApplicationError() {
    create(1, ActorLifetime.ACTOR_LIFETIME_OWNED, -1);
    PushTaskReply r = creatorWire.awaitReply(CREATION);
    assertThat(r.getIsApplicationError()).isTrue();
    assertThat(r.getReturns(0).getValue().getError().getMessage()).contains("negative start -1");
  }

  /** Rule (actor call order): a call that arrives early is held until the ones before it ran. */
  @Test
  void callsRunInTheirCallersOrderWhateverTheirArrival() {
    createAlive(1);
    TaskId second = send(callerStream, 1, 0, "add", "(I)I", false, 10);
    TaskId first = send(callerStream, 0, 0, "add", "(I)I", false, 1);

    assertThat(value(callerWire.awaitReply(second))).isEqualTo(11);
    assertThat(value(callerWire.awaitReply(first))).isEqualTo(1);
    assertThat(log).containsSubsequence("add:1", "add:10");
  }

  /** Rule: a mark sent alone releases a call waiting for numbers that will never come. */
  @Test
  void aMarkSentAloneReleasesAHeldCall() {
    createAlive(1);
    TaskId held = send(callerStream, 1, 0, "add", "(I)I", false, 4);
    assertThat(log).doesNotContain("add:4");

    callerStream.onNext(PushTaskBatch.newBuilder().setCallerProcessedUpTo(1).build());

    assertThat(value(callerWire.awaitReply(held))).isEqualTo(4);
  }

  /** Rule: the constructor and methods see the actor's id in their context. */
  @Test
  void methodsAndTheConstructorSeeTheActorId() {
    createAlive(1);
    TaskId who = send(callerStream, 0, 0, "whoAmI", "()Ljava/lang/String;", false);
    assertThat(value(callerWire.awaitReply(who))).isEqualTo(ACTOR.toString());
    assertThat(log).containsExactly("init:" + ACTOR);
  }

  /** Rule: a queued call that is cancelled never runs; a running one is interrupted. */
  @Test
  void cancelledCallsNeverRunOrAreInterrupted() {
    createAlive(1);
    release = new CountDownLatch(1);
    TaskId running = send(callerStream, 0, 0, "add", "(I)I", false, 1);
    TaskId queued = send(callerStream, 1, 0, "add", "(I)I", false, 2);
    await().atMost(WAIT).until(() -> log.contains("add:1"));

    callerStream.onNext(PushTaskBatch.newBuilder().addCancelTaskIds(bytes(queued)).build());
    assertThat(errorType(callerWire.awaitReply(queued))).isEqualTo(ErrorType.TASK_CANCELLED);

    callerStream.onNext(PushTaskBatch.newBuilder().addCancelTaskIds(bytes(running)).build());
    assertThat(errorType(callerWire.awaitReply(running))).isEqualTo(ErrorType.TASK_CANCELLED);
    assertThat(log).doesNotContain("add:2");

    release.countDown();
    TaskId after = send(callerStream, 2, 0, "add", "(I)I", false, 5);
    assertThat(value(callerWire.awaitReply(after))).isEqualTo(5);
  }

  /**
   * Rule: an async method holds the actor's permit until its stage completes (the next call waits),
   * its value is the reply, and a failed stage is an application error with the stage's cause.
   */
  @Test
  void anAsyncMethodHoldsItsPermitUntilItsStageCompletes() {
    createAlive(1);
    later = new CompletableFuture<>();
    TaskId async =
        send(callerStream, 0, 0, "addLater", "(I)Ljava/util/concurrent/CompletionStage;", true, 1);
    TaskId next = send(callerStream, 1, 0, "add", "(I)I", false, 100);
    await().atMost(WAIT).until(() -> log.contains("addLater:1"));
    assertThat(log).doesNotContain("add:100");

    later.complete(10);

    assertThat(value(callerWire.awaitReply(async))).isEqualTo(11);
    assertThat(value(callerWire.awaitReply(next))).isEqualTo(111);

    later = new CompletableFuture<>();
    TaskId failing =
        send(callerStream, 2, 0, "addLater", "(I)Ljava/util/concurrent/CompletionStage;", true, 1);
    await().atMost(WAIT).until(() -> log.contains("addLater:1") && log.size() >= 4);
    later.completeExceptionally(new IllegalStateException("stage broke"));
    PushTaskReply r = callerWire.awaitReply(failing);
    assertThat(r.getIsApplicationError()).isTrue();
    assertThat(r.getReturns(0).getValue().getError().getMessage())
        .contains("IllegalStateException: stage broke")
        .doesNotContain("CompletionException");
  }

  /**
   * Rule: when the consumer closes an actor's generator stream ("not found"), the method's iterator
   * is closed and the call ends, so the actor's next call runs.
   */
  @Test
  void aGeneratorMethodStopsWhenItsConsumerClosesTheStream() {
    createAlive(1);
    TaskId gen = nextTaskId();
    TaskSpec spec =
        callSpec(gen, 0, "count", "(I)Ljava/util/Iterator;", false, 0).toBuilder()
            .setStreamingGenerator(true)
            .setGeneratorBackpressureNumObjects(2)
            .build();
    callerStream.onNext(
        PushTaskBatch.newBuilder().addTasks(PushTaskRequest.newBuilder().setSpec(spec)).build());
    TaskId next = send(callerStream, 1, 0, "add", "(I)I", false, 3);

    ReportGeneratorItemReturns report = callerWire.awaitReport();
    callerStream.onNext(
        PushTaskBatch.newBuilder()
            .addReportReplies(
                ReportGeneratorItemReturnsReply.newBuilder()
                    .setReportId(report.getReportId())
                    .setNotFound(true))
            .build());
    // Every later report is answered "not found" as well, as a closed stream's owner does.
    callerWire.answerReportsWith(callerStream, true);

    callerWire.awaitReply(gen);
    assertThat(iteratorClosed).isTrue();
    assertThat(value(callerWire.awaitReply(next))).isEqualTo(3);
  }

  /** Rule: an OWNED actor whose creator's stream broke reports OWNER_DIED and exits. */
  @Test
  void anOwnedActorWhoseCreatorIsGoneReportsItsDeathAndExits() {
    createAlive(1);
    creatorStream.onError(new RuntimeException("creator died"));

    await().atMost(WAIT).until(() -> !exits.isEmpty());
    assertThat(exits).containsExactly(false);
    assertThat(fake.deaths).hasSize(1);
    ErrorInfo cause = fake.deaths.get(ACTOR);
    assertThat(Errors.actorDiedReason(cause)).isEqualTo(ActorDiedException.Reason.OWNER_DIED);
    assertThat(cause.getMessage())
        .contains(Counter.class.getName())
        .contains(ACTOR.toString())
        .contains("creator");
  }

  /** Rule: a DETACHED actor outlives its creator's stream. */
  @Test
  void aDetachedActorOutlivesItsCreatorsStream() {
    create(1, ActorLifetime.ACTOR_LIFETIME_DETACHED, 0);
    creatorWire.awaitReply(CREATION);
    creatorStream.onError(new RuntimeException("creator died"));

    TaskId call = send(callerStream, 0, 0, "add", "(I)I", false, 6);
    assertThat(value(callerWire.awaitReply(call))).isEqualTo(6);
    assertThat(exits).isEmpty();
    assertThat(fake.deaths).isEmpty();
  }

  /**
   * Rule: a caller whose stream broke has its queued calls dropped and running ones interrupted.
   */
  @Test
  void aCallerWhoseStreamBrokeHasItsCallsDroppedAndInterrupted() {
    createAlive(1);
    release = new CountDownLatch(1);
    send(callerStream, 0, 0, "add", "(I)I", false, 1);
    send(callerStream, 1, 0, "add", "(I)I", false, 2);
    await().atMost(WAIT).until(() -> log.contains("add:1"));

    callerStream.onError(new RuntimeException("caller died"));

    Wire otherWire = new Wire();
    TaskStream other = new TaskStream(receiver, otherWire, Runnable::run, 1 << 20);
    TaskId mine = nextTaskId();
    other.onNext(
        PushTaskBatch.newBuilder()
            .addTasks(
                PushTaskRequest.newBuilder()
                    .setSpec(
                        callSpec(
                            mine,
                            0,
                            "whoAmI",
                            "()Ljava/lang/String;",
                            false,
                            new Object[0],
                            WorkerId.random())))
            .build());
    // Runs although `release` is never counted down: the broken caller's call was interrupted.
    assertThat(value(otherWire.awaitReply(mine))).isEqualTo(ACTOR.toString());
    assertThat(log).doesNotContain("add:2");
  }

  /** Rule: ExitActor for the hosted actor halts the process; for another actor it is ignored. */
  @Test
  void exitActorHaltsTheProcess() {
    createAlive(1);
    assertThat(receiver.exitActor(ActorId.of(TaskId.forChild(DRIVER, 99)), "")).isFalse();
    assertThat(receiver.exitActor(ACTOR, "killed by test")).isTrue();
    await().atMost(WAIT).until(() -> !exits.isEmpty());
    assertThat(exits).containsExactly(true);
  }

  // ------------------------------------------------------------------ helpers

  private void createAlive(int maxConcurrency) {
    create(maxConcurrency, ActorLifetime.ACTOR_LIFETIME_OWNED, 0);
    assertThat(creatorWire.awaitReply(CREATION).getReturnsCount()).isZero();
    log.clear();
    log.add("init:" + ACTOR); // as the constructor logged it
  }

  private void create(int maxConcurrency, ActorLifetime lifetime, int start) {
    TaskSpec spec =
        TaskSpec.newBuilder()
            .setTaskId(bytes(CREATION))
            .setDisplayName("Counter.<init>")
            .setFunction(function("<init>", "(I)V", MethodHandleInfo.REF_newInvokeSpecial))
            .addArgs(arg(start))
            .setOwner(CREATOR)
            .setActorCreation(
                ActorCreationSpec.newBuilder()
                    .setActorId(bytes(CREATION))
                    .setClassName(Counter.class.getName())
                    .setLifetime(lifetime)
                    .setMaxConcurrency(maxConcurrency))
            .build();
    creatorStream.onNext(
        PushTaskBatch.newBuilder().addTasks(PushTaskRequest.newBuilder().setSpec(spec)).build());
  }

  private TaskId send(
      TaskStream stream,
      long seq,
      long processedUpTo,
      String method,
      String descriptor,
      boolean async,
      Object... args) {
    TaskId id = nextTaskId();
    stream.onNext(
        PushTaskBatch.newBuilder()
            .setCallerProcessedUpTo(processedUpTo)
            .addTasks(
                PushTaskRequest.newBuilder()
                    .setSpec(callSpec(id, seq, method, descriptor, async, args)))
            .build());
    return id;
  }

  private TaskId nextTaskId() {
    return TaskId.forChild(DRIVER, nextTask++);
  }

  private TaskSpec callSpec(
      TaskId id, long seq, String method, String descriptor, boolean async, Object... args) {
    return callSpec(id, seq, method, descriptor, async, args, CALLER);
  }

  private TaskSpec callSpec(
      TaskId id,
      long seq,
      String method,
      String descriptor,
      boolean async,
      Object[] args,
      WorkerId caller) {
    TaskSpec.Builder b =
        TaskSpec.newBuilder()
            .setTaskId(bytes(id))
            .setDisplayName("Counter." + method)
            .setNumReturns(1)
            .setFunction(function(method, descriptor, MethodHandleInfo.REF_invokeVirtual))
            .setActorCall(
                ActorCallSpec.newBuilder()
                    .setActorId(bytes(CREATION))
                    .setCallerId(ByteString.copyFrom(caller.toBytes()))
                    .setSequenceNumber(seq)
                    .setAsync(async));
    for (Object a : args) {
      b.addArgs(arg(a));
    }
    return b.build();
  }

  private static FunctionDescriptor function(String method, String descriptor, int kind) {
    return FunctionDescriptor.newBuilder()
        .setClassName(Counter.class.getName())
        .setMethodName(method)
        .setMethodDescriptor(descriptor)
        .setImplKind(kind)
        .build();
  }

  private TaskArg arg(Object value) {
    return TaskArg.newBuilder().setValue(ByteString.copyFrom(serializer.serialize(value))).build();
  }

  private static ByteString bytes(TaskId id) {
    return ByteString.copyFrom(id.toBytes());
  }

  private Object value(PushTaskReply reply) {
    ObjectValue v = reply.getReturns(0).getValue();
    assertThat(v.hasError()).as("error: %s", v.getError().getMessage()).isFalse();
    return serializer.deserialize(v.getData().toByteArray());
  }

  private static ErrorType errorType(PushTaskReply reply) {
    return reply.getReturns(0).getValue().getError().getType();
  }

  /** The other end of a task stream: what the worker sent on it. */
  private static final class Wire implements StreamObserver<TaskResultBatch> {
    private final Map<TaskId, PushTaskReply> replies = new ConcurrentHashMap<>();
    private final List<ReportGeneratorItemReturns> reports = new CopyOnWriteArrayList<>();
    private final AtomicInteger answered = new AtomicInteger();
    private volatile TaskStream answerOn;

    @Override
    public void onNext(TaskResultBatch batch) {
      for (TaskResult r : batch.getResultsList()) {
        replies.put(TaskId.fromBytes(r.getTaskId().toByteArray()), r.getReply());
      }
      reports.addAll(batch.getReportsList());
      answerPending();
    }

    /** From now on, every report is answered "not found" on {@code stream}. */
    void answerReportsWith(TaskStream stream, boolean notFound) {
      answerOn = stream;
      answerPending();
    }

    private void answerPending() {
      TaskStream s = answerOn;
      if (s == null) {
        return;
      }
      List<ReportGeneratorItemReturns> todo = new ArrayList<>();
      synchronized (this) {
        while (answered.get() < reports.size()) {
          todo.add(reports.get(answered.getAndIncrement()));
        }
      }
      for (ReportGeneratorItemReturns r : todo) {
        s.onNext(
            PushTaskBatch.newBuilder()
                .addReportReplies(
                    ReportGeneratorItemReturnsReply.newBuilder()
                        .setReportId(r.getReportId())
                        .setNotFound(true))
                .build());
      }
    }

    PushTaskReply awaitReply(TaskId id) {
      await("the reply of " + id).atMost(WAIT).until(() -> replies.containsKey(id));
      return replies.get(id);
    }

    ReportGeneratorItemReturns awaitReport() {
      await("a generator report").atMost(WAIT).until(() -> !reports.isEmpty());
      answered.compareAndSet(0, 1);
      return reports.getFirst();
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  /** The process around the receiver: inline values, and the actor table's reports recorded. */
  static final class FakeEnv implements ExecutionEnv {
    private final ObjectSerializer serializer;
    private final InheritableThreadLocal<TaskContext> current = new InheritableThreadLocal<>();
    final Map<ActorId, ErrorInfo> deaths = new ConcurrentHashMap<>();

    FakeEnv(ObjectSerializer serializer) {
      this.serializer = serializer;
    }

    @Override
    public String location() {
      return "node test, worker test";
    }

    @Override
    public Object getValue(ObjectRefImpl<?> ref) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void setCurrentTask(TaskContext ctx) {
      current.set(ctx);
    }

    @Override
    public void executionBlocked(boolean blocked) {}

    @Override
    public TaskContext currentTask() {
      return current.get();
    }

    @Override
    public int maxMessageBytes() {
      return 1 << 20;
    }

    @Override
    public Address address() {
      return Address.getDefaultInstance();
    }

    @Override
    public EncodedReturn encodeReturn(
        Object value, ObjectId id, Address taskOwner, boolean sealLater) {
      return new EncodedReturn(
          ObjectValue.newBuilder()
              .setData(ByteString.copyFrom(serializer.serialize(value)))
              .build(),
          List.of(),
          CompletableFuture.completedFuture(null));
    }

    @Override
    public void awaitBorrowRegistrations() {}

    @Override
    public void ownerConnectionLost(ByteString leaseId) {
      throw new AssertionError("an actor's stream holds no lease");
    }

    @Override
    public void lendCpu(boolean lend) {}

    @Override
    public void reportActorDead(ActorId id, int instance, ErrorInfo cause) {
      deaths.put(id, cause);
    }
  }
}
