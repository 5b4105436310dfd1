package dev.sluice.runtime.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.NodeId;
import dev.sluice.WorkerId;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The node's scheduling rules ({@link LeaseDispatcher} over a {@link WorkerPool}) with fake worker
 * processes, requests built as plain values, recorded outcomes and a fake clock: no JVM is started
 * and nothing waits.
 */
class LeaseDispatcherTest {
  private final Object lock = new Object();
  private final AtomicLong clock = new AtomicLong(System.nanoTime());
  private final List<WorkerProcess> launched = new ArrayList<>();
  private NodeConfig config;
  private WorkerPool pool;
  private LeaseDispatcher dispatcher;

  private void node(double cpus, int maxExtraWorkers) {
    node(cpus, maxExtraWorkers, 0);
  }

  private void node(double cpus, int maxExtraWorkers, int prestartWorkers) {
    config =
        new NodeConfig(
            NodeId.random(),
            "127.0.0.1",
            0,
            "127.0.0.1:1",
            Map.of("CPU", cpus),
            prestartWorkers,
            List.of(),
            List.of(),
            Path.of("unused-session"),
            Duration.ofSeconds(30),
            List.of(),
            1024,
            1 << 20,
            Duration.ofSeconds(1),
            1 << 20,
            Path.of("unused-store"),
            false,
            Duration.ofSeconds(30),
            false,
            1 << 20,
            maxExtraWorkers);
    pool =
        new WorkerPool(
            config,
            "127.0.0.1",
            lock,
            (job, classPath) -> {
              WorkerProcess w =
                  new WorkerProcess(
                      WorkerId.random(),
                      job,
                      new FakeProcess(launched.size()),
                      Path.of("no-such-worker.log"),
                      Path.of("no-such-worker.out"),
                      WorkerLaunchCache.Plan.NONE);
              launched.add(w);
              return w;
            },
            w -> dispatcher.workerExited(w),
            clock::get);
    JobCodeCache jobCode =
        new JobCodeCache(
            config,
            job -> {
              throw new IOException("no control service in this test");
            },
            (job, classPath, failure) -> {});
    dispatcher =
        new LeaseDispatcher(config, "127.0.0.1", lock, pool, jobCode, new LeaseRouter(config));
  }

  @Test
  void lendingRule_aWorkerWhoseTasksAllBlockLendsItsLeasesCpuAndIsLeasedAgain() {
    node(2, 0);
    Reply a = request(1);
    register(launched.get(0));
    assertThat(a.granted()).isTrue();
    Reply b = request(1); // the warm spare is starting; nothing idle, nothing lent
    assertThat(b.value).isNull();

    dispatcher.workerBlocked(launched.get(0).id, true, () -> {});

    assertThat(b.granted()).as("granted on the blocked worker's lent CPU").isTrue();
    assertThat(b.grant().worker().getWorkerId()).isEqualTo(a.grant().worker().getWorkerId());
    assertThat(cpuAvailable()).isEqualTo(1.0);
  }

  @Test
  void lendingRule_aResumedWorkerIsChargedOneLease() {
    node(2, 0);
    request(1);
    WorkerProcess w = launched.get(0);
    register(w);
    dispatcher.workerBlocked(w.id, true, () -> {});
    Reply b = request(1);
    assertThat(b.granted()).isTrue();
    dispatcher.workerBlocked(w.id, true, () -> {});
    assertThat(cpuAvailable()).as("both leases lent").isEqualTo(2.0);

    dispatcher.workerBlocked(w.id, false, () -> {});

    assertThat(cpuAvailable()).as("one lease charged, not two").isEqualTo(1.0);
  }

  @Test
  void workerBound_noMoreWorkerJvmsThanCpusPlusMaxExtraWorkers() {
    node(1, 0);
    request(1);
    register(launched.get(0));
    Reply b = request(0); // needs no resources: waits for a worker only

    assertThat(b.value).isNull();
    assertThat(launched).as("one CPU, no extra workers: one JVM").hasSize(1);

    node(1, 1);
    launched.clear();
    request(1);
    register(launched.get(0)); // a warm spare starts in the extra room
    register(launched.get(1));
    assertThat(request(0).granted()).isTrue();
    Reply d = request(0);
    assertThat(d.value).isNull();
    assertThat(launched).as("one CPU and one extra worker: two JVMs").hasSize(2);
  }

  @Test
  void undeliverableGrant_isTakenBackAtOnce() {
    node(1, 0);
    Reply gone = new Reply();
    gone.callerGone = true;
    dispatcher.requestLease(leaseRequest(1), gone);
    WorkerProcess w = launched.get(0);
    register(w);

    assertThat(cpuAvailable()).isEqualTo(1.0);
    assertThat(w.state).isEqualTo(WorkerProcess.State.IDLE);
    Reply next = request(1);
    assertThat(next.granted()).isTrue();
    assertThat(next.grant().worker().getWorkerId()).isEqualTo(ByteString.copyFrom(w.id.toBytes()));
  }

  @Test
  void infeasibleRequest_isRejectedNamingTheResource() {
    node(1, 0);
    Reply r = request(4);

    assertThat(r.rejection().reason()).isEqualTo(LeaseOutcome.Reason.INFEASIBLE);
    assertThat(r.rejection().message()).contains("CPU=4.0").contains(config.nodeId().toString());
    assertThat(launched).isEmpty();
  }

  @Test
  void startFailures_threeInARowRejectTheWaitingRequests() {
    node(1, 0);
    Reply r = request(1);
    for (int i = 0; i < WorkerPool.MAX_CONSECUTIVE_START_FAILURES; i++) {
      assertThat(r.value).isNull();
      ((FakeProcess) launched.get(i).process).exit();
    }

    assertThat(r.rejection().reason()).isEqualTo(LeaseOutcome.Reason.FAILED);
    assertThat(r.rejection().message()).contains("fail to start (3 in a row)");
    assertThat(launched).hasSize(3);
  }

  @Test
  void idleEviction_idleWorkersBeyondOneSpareStopAfterTheKeepTime() {
    node(2, 0);
    Reply a = request(1);
    Reply b = request(1);
    register(launched.get(0));
    register(launched.get(1));
    dispatcher.returnLease(a.grant().leaseId(), ByteString.EMPTY, false, "", () -> {});
    dispatcher.returnLease(b.grant().leaseId(), ByteString.EMPTY, false, "", () -> {});
    pool.enforceTimeouts();
    assertThat(destroyed()).as("kept within the keep time").isZero();

    clock.addAndGet(WorkerPool.IDLE_WORKER_KEEP_NANOS + TimeUnit.SECONDS.toNanos(1));
    pool.enforceTimeouts();

    assertThat(destroyed()).as("one stopped, one kept as the spare").isEqualTo(1);
  }

  @Test
  void idleEviction_thePrestartedPoolAndTheSpareStay() {
    node(2, 4, 2);
    Reply a = request(1);
    Reply b = request(1);
    register(launched.get(0));
    register(launched.get(1));
    assertThat(a.granted() && b.granted()).isTrue();
    assertThat(launched).as("every worker busy: a spare starts").hasSize(3);
    register(launched.get(2));
    dispatcher.returnLease(a.grant().leaseId(), ByteString.EMPTY, false, "", () -> {});
    dispatcher.returnLease(b.grant().leaseId(), ByteString.EMPTY, false, "", () -> {});

    clock.addAndGet(WorkerPool.IDLE_WORKER_KEEP_NANOS + TimeUnit.SECONDS.toNanos(1));
    pool.enforceTimeouts();

    assertThat(destroyed())
        .as("stopping the spare would only start it again when both are busy")
        .isZero();
  }

  @Test
  void actorLease_getsAWorkerOfItsOwnBeyondTheWorkerBound() {
    node(1, 0); // a bound of one worker JVM
    Reply task = request(1);
    register(launched.get(0));
    assertThat(task.granted()).isTrue();

    List<Reply> actors = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      actors.add(actorRequest(0, false));
    }
    List.copyOf(launched).stream().skip(1).forEach(this::register);

    assertThat(actors).allMatch(Reply::granted);
    assertThat(actors.stream().map(r -> r.grant().worker().getWorkerId()).distinct())
        .as("one worker per actor")
        .hasSize(3);
    synchronized (lock) {
      assertThat(pool.liveCountLocked()).as("actors' workers are outside the bound").isEqualTo(1);
    }
  }

  @Test
  void actorLease_itsWorkerIsNeverLeasedForTasksAndIsKilledWhenReturned() {
    node(2, 0);
    Reply actor = actorRequest(0, false);
    List.copyOf(launched).forEach(this::register);
    assertThat(actor.granted()).isTrue();
    WorkerProcess actorWorker =
        launched.stream()
            .filter(
                w ->
                    w.id.equals(
                        WorkerId.fromBytes(actor.grant().worker().getWorkerId().toByteArray())))
            .findFirst()
            .orElseThrow();

    dispatcher.returnLease(actor.grant().leaseId(), ByteString.EMPTY, false, "", () -> {});

    assertThat(((FakeProcess) actorWorker.process).destroyed)
        .as("an actor's worker is stopped, not pooled again")
        .isTrue();
    Reply task = request(1);
    List.copyOf(launched).stream()
        .filter(w -> w.state == WorkerProcess.State.STARTING)
        .forEach(this::register);
    assertThat(task.granted()).isTrue();
    assertThat(task.grant().worker().getWorkerId())
        .isNotEqualTo(actor.grant().worker().getWorkerId());
  }

  @Test
  void actorLease_holdsItsCpusUntilItsWorkerDiesAndTheDeathIsReported() {
    node(2, 0);
    List<String> deaths = new ArrayList<>();
    dispatcher.onActorWorkerDeath((actor, worker, detail) -> deaths.add(actor.toStringUtf8()));
    Reply actor = actorRequest(1, false);
    List.copyOf(launched).forEach(this::register);
    assertThat(actor.granted()).isTrue();
    assertThat(cpuAvailable()).isEqualTo(1.0);

    WorkerProcess w =
        launched.stream()
            .filter(
                p ->
                    p.id.equals(
                        WorkerId.fromBytes(actor.grant().worker().getWorkerId().toByteArray())))
            .findFirst()
            .orElseThrow();
    ((FakeProcess) w.process).exit();

    assertThat(cpuAvailable()).as("the actor's CPU is back").isEqualTo(2.0);
    assertThat(deaths).containsExactly("actor-1");
  }

  @Test
  void actorLease_aDetachedActorOutlivesItsCreatorAndAnOwnedOneDiesWithIt() {
    node(4, 0);
    Reply creatorLease = request(1);
    List.copyOf(launched).forEach(this::register);
    WorkerProcess creator = launched.get(0);
    ByteString creatorId = ByteString.copyFrom(creator.id.toBytes());
    Reply owned = actorRequest(0, false, creatorId);
    Reply detached = actorRequest(0, true, creatorId);
    List.copyOf(launched).stream()
        .filter(w -> w.state == WorkerProcess.State.STARTING)
        .forEach(this::register);
    assertThat(creatorLease.granted() && owned.granted() && detached.granted()).isTrue();

    ((FakeProcess) creator.process).exit();

    assertThat(processOf(owned).destroyed).as("the owned actor dies with its creator").isTrue();
    assertThat(processOf(detached).destroyed).as("the detached one lives on").isFalse();
  }

  private FakeProcess processOf(Reply r) {
    WorkerId id = WorkerId.fromBytes(r.grant().worker().getWorkerId().toByteArray());
    return (FakeProcess)
        launched.stream().filter(w -> w.id.equals(id)).findFirst().orElseThrow().process;
  }

  private Reply actorRequest(double cpu, boolean detached) {
    return actorRequest(cpu, detached, ByteString.copyFrom(WorkerId.random().toBytes()));
  }

  private Reply actorRequest(double cpu, boolean detached, ByteString owner) {
    Reply r = new Reply();
    dispatcher.requestLease(
        new WorkerLeaseRequest(
            ByteString.copyFromUtf8(UUID.randomUUID().toString()),
            cpu > 0 ? Map.of("CPU", cpu) : Map.of(),
            ByteString.EMPTY,
            owner,
            ByteString.copyFrom(NodeId.random().toBytes()),
            "actor",
            0,
            null,
            ByteString.copyFromUtf8("actor-" + (++actorCount)),
            detached),
        r);
    return r;
  }

  private int actorCount;

  // ------------------------------------------------------------------ fakes

  private Reply request(double cpu) {
    Reply r = new Reply();
    dispatcher.requestLease(leaseRequest(cpu), r);
    return r;
  }

  private static WorkerLeaseRequest leaseRequest(double cpu) {
    return new WorkerLeaseRequest(
        ByteString.copyFromUtf8(UUID.randomUUID().toString()),
        Map.of("CPU", cpu),
        ByteString.EMPTY,
        ByteString.copyFrom(WorkerId.random().toBytes()),
        ByteString.copyFrom(NodeId.random().toBytes()),
        "f",
        0,
        null);
  }

  private void register(WorkerProcess w) {
    List<Runnable> replies = dispatcher.workerRegistered(w.id, 40000 + launched.indexOf(w), "");
    assertThat(replies).as("registered").isNotNull();
    replies.forEach(Runnable::run);
  }

  private double cpuAvailable() {
    synchronized (lock) {
      return dispatcher.availableLocked().get("CPU");
    }
  }

  private long destroyed() {
    return launched.stream().filter(w -> ((FakeProcess) w.process).destroyed).count();
  }

  /** Records the outcome; with {@code callerGone}, cannot deliver it, like a cancelled call. */
  private static final class Reply implements PendingLease.Reply {
    LeaseOutcome value;
    boolean callerGone;

    boolean granted() {
      return value instanceof LeaseOutcome.Granted;
    }

    LeaseOutcome.Granted grant() {
      return (LeaseOutcome.Granted) value;
    }

    LeaseOutcome.Rejected rejection() {
      return (LeaseOutcome.Rejected) value;
    }

    @Override
    public boolean send(LeaseOutcome outcome) {
      if (callerGone) {
        return false;
      }
      value = outcome;
      return true;
    }
  }

  /** A worker process that never runs: exits when told, records being killed. */
  private static final class FakeProcess extends Process {
    private final CompletableFuture<Process> exit = new CompletableFuture<>();
    private final long pid;
    volatile boolean destroyed;

    FakeProcess(long pid) {
      this.pid = 100_000 + pid;
    }

    void exit() {
      exit.complete(this);
    }

    @Override
    public OutputStream getOutputStream() {
      return OutputStream.nullOutputStream();
    }

    @Override
    public InputStream getInputStream() {
      return InputStream.nullInputStream();
    }

    @Override
    public InputStream getErrorStream() {
      return InputStream.nullInputStream();
    }

    @Override
    public int waitFor() {
      exit.join();
      return 1;
    }

    @Override
    public int exitValue() {
      if (!exit.isDone()) {
        throw new IllegalThreadStateException("running");
      }
      return 1;
    }

    @Override
    public void destroy() {
      destroyed = true;
    }

    @Override
    public Process destroyForcibly() {
      destroyed = true;
      return this;
    }

    @Override
    public boolean isAlive() {
      return !exit.isDone();
    }

    @Override
    public CompletableFuture<Process> onExit() {
      return exit;
    }

    @Override
    public long pid() {
      return pid;
    }
  }
}
