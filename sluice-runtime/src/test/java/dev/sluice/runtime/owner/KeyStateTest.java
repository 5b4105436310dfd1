package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.TaskId;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The scheduling rules of one key, decided without RPCs: which lease gets which task, which lease
 * is asked to give tasks back, how many lease requests are out, and which tasks a worker death
 * charges.
 */
// Each test drives its KeyState from the test thread alone: the monitor that guards it in the
// submitter has nothing to exclude here.
@SuppressWarnings("GuardedBy")
class KeyStateTest {
  private static final long NOW = 1_000_000_000L;
  private static final KeyState.Rules PIPELINE_2 = new KeyState.Rules(2, 1 << 20, id -> false);

  private static KeyState key(boolean generator) {
    return new KeyState(
        "{CPU=1.0}", ByteString.copyFromUtf8("job"), Map.of("CPU", 1.0), null, generator);
  }

  private static TaskSpec task(int n) {
    return TaskSpec.newBuilder()
        .setTaskId(ByteString.copyFrom(ByteBuffer.allocate(TaskId.LENGTH).putInt(n).array()))
        .setDisplayName("t" + n)
        .setAttemptNumber(0)
        .build();
  }

  private static LeaseStream lease(KeyState ks, String name) {
    LeaseStream lease =
        new LeaseStream(
            LeaseReply.newBuilder()
                .setLeaseId(ByteString.copyFromUtf8(name))
                .setWorker(
                    Address.newBuilder()
                        .setWorkerId(ByteString.copyFromUtf8(name))
                        .setHost("worker-" + name)
                        .setPort(1))
                .build(),
            "node-manager");
    ks.leases.add(lease);
    return lease;
  }

  private static void queue(KeyState ks, int... tasks) {
    for (int n : tasks) {
      ks.queue.add(task(n));
    }
  }

  private static TaskResult reply(int n, PushTaskReply reply) {
    return TaskResult.newBuilder().setTaskId(task(n).getTaskId()).setReply(reply).build();
  }

  @Test
  void leastLoadedPushSpreadsABurstOverEveryLeaseBeforePipelining() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    LeaseStream b = lease(ks, "b");
    queue(ks, 1, 2, 3);
    KeyPlan plan = ks.plan(PIPELINE_2, false, NOW);
    assertThat(plan.pushedTo(a)).containsExactly(task(1), task(3));
    assertThat(plan.pushedTo(b)).containsExactly(task(2));
    assertThat(ks.queue).isEmpty();
  }

  @Test
  void pipeliningStopsAtMaxTasksInFlightPerWorker() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    queue(ks, 1, 2, 3, 4, 5);
    KeyPlan plan = ks.plan(PIPELINE_2, false, NOW);
    assertThat(plan.pushedTo(a)).containsExactly(task(1), task(2));
    assertThat(a.inFlight).hasSize(2);
    assertThat(ks.queue).containsExactly(task(3), task(4), task(5));
  }

  @Test
  void generatorsRunOnePerLeaseWithNothingPipelinedBehind() {
    KeyState ks = key(true);
    LeaseStream a = lease(ks, "a");
    queue(ks, 1, 2);
    KeyPlan plan = ks.plan(new KeyState.Rules(10, 1 << 20, id -> false), false, NOW);
    assertThat(plan.pushedTo(a)).containsExactly(task(1));
    assertThat(ks.queue).containsExactly(task(2));
  }

  @Test
  void cancelledTasksAreTakenOffTheQueueAndNeverPushed() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    queue(ks, 1, 2);
    TaskId cancelled = KeyState.taskId(task(1));
    KeyPlan plan = ks.plan(new KeyState.Rules(2, 1 << 20, cancelled::equals), false, NOW);
    assertThat(plan.cancelled()).containsExactly(task(1));
    assertThat(plan.pushedTo(a)).containsExactly(task(2));
  }

  @Test
  void pushesShareAMessageButNeverBeyondTheBatchLimit() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    queue(ks, 1, 2, 3);
    assertThat(ks.plan(new KeyState.Rules(10, 1 << 20, id -> false), false, NOW).pushes().get(a))
        .hasSize(1);
    KeyState small = key(false);
    LeaseStream b = lease(small, "b");
    queue(small, 1, 2, 3);
    // A limit smaller than one task: each task goes alone (a message holds at least one).
    List<PushTaskBatch> messages =
        small.plan(new KeyState.Rules(10, 1, id -> false), false, NOW).pushes().get(b);
    assertThat(messages).hasSize(3).allMatch(m -> m.getTasksCount() == 1);
  }

  @Test
  void stealVictimIsTheBusiestLeaseWhileAnotherIsIdle() {
    KeyState ks = key(false);
    LeaseStream busy = lease(ks, "busy");
    LeaseStream busier = lease(ks, "busier");
    LeaseStream idle = lease(ks, "idle");
    busy.inFlight.put(KeyState.taskId(task(1)), task(1));
    busy.inFlight.put(KeyState.taskId(task(2)), task(2));
    for (int n = 3; n <= 5; n++) {
      busier.inFlight.put(KeyState.taskId(task(n)), task(n));
    }
    assertThat(ks.stealVictim()).isSameAs(busier);
    KeyPlan plan = ks.plan(new KeyState.Rules(4, 1 << 20, id -> false), false, NOW);
    assertThat(plan.stealVictim()).isSameAs(busier);
    assertThat(plan.pushes().get(busier)).extracting(PushTaskBatch::getSteal).containsExactly(true);
    assertThat(busier.stealPending).isTrue();
    // One steal at a time per lease: the next busiest is asked next.
    assertThat(ks.stealVictim()).isSameAs(busy);
    assertThat(idle.inFlight).isEmpty();
  }

  @Test
  void nothingIsStolenWithoutAnIdleLeaseOrFromALeaseRunningOneTask() {
    KeyState ks = key(false);
    LeaseStream busy = lease(ks, "busy");
    busy.inFlight.put(KeyState.taskId(task(1)), task(1));
    busy.inFlight.put(KeyState.taskId(task(2)), task(2));
    busy.inFlight.remove(KeyState.taskId(task(2)));
    assertThat(ks.stealVictim()).as("one task in flight is running, nothing waits").isNull();
  }

  @Test
  void leaseRequestsFollowTheBacklogUpToTheCap() {
    KeyState ks = key(false);
    queue(ks, 1, 2, 3);
    assertThat(ks.plan(PIPELINE_2, false, NOW).newLeaseRequests()).hasSize(3);
    for (int n = 4; n < 30; n++) {
      queue(ks, n);
    }
    assertThat(ks.plan(PIPELINE_2, false, NOW).newLeaseRequests())
        .hasSize(KeyState.MAX_PENDING_LEASE_REQUESTS - 3);
    assertThat(ks.pendingLeaseRequests).hasSize(KeyState.MAX_PENDING_LEASE_REQUESTS);
  }

  @Test
  void tasksPipelinedBehindARunningOneCountInTheBacklog() {
    KeyState ks = key(false);
    lease(ks, "a");
    queue(ks, 1, 2, 3, 4);
    KeyPlan plan = ks.plan(new KeyState.Rules(4, 1 << 20, id -> false), false, NOW);
    assertThat(ks.queue).isEmpty();
    assertThat(plan.newLeaseRequests()).as("3 tasks wait behind the running one").hasSize(3);
  }

  @Test
  void leaseRequestsNoLongerNeededAreCancelledNewestFirst() {
    KeyState ks = key(false);
    queue(ks, 1, 2, 3);
    List<ByteString> made = ks.plan(PIPELINE_2, false, NOW).newLeaseRequests();
    ks.queue.removeLast();
    ks.queue.removeLast();
    KeyPlan plan = ks.plan(PIPELINE_2, false, NOW);
    assertThat(plan.cancelledLeaseRequests()).containsExactly(made.get(2), made.get(1));
    assertThat(ks.pendingLeaseRequests).containsExactly(made.getFirst());
  }

  @Test
  void deferredLeaseRequestsWaitForTheTimerWhichIsStartedOnce() {
    KeyState ks = key(false);
    queue(ks, 1);
    KeyPlan first = ks.plan(PIPELINE_2, true, NOW);
    assertThat(first.newLeaseRequests()).isEmpty();
    assertThat(first.deferLeaseRequests()).isTrue();
    queue(ks, 2);
    KeyPlan second = ks.plan(PIPELINE_2, true, NOW);
    assertThat(second.newLeaseRequests()).isEmpty();
    assertThat(second.deferLeaseRequests()).as("the timer is already set").isFalse();
    // The timer plans with its requests due.
    ks.leaseRequestScheduled = false;
    ks.leaseRequestDue = true;
    KeyPlan due = ks.plan(PIPELINE_2, true, NOW);
    assertThat(due.newLeaseRequests()).hasSize(2);
    assertThat(due.deferLeaseRequests()).isFalse();
  }

  @Test
  void aLeaseIdleForTheTimeoutIsReturnedOnlyWhenNothingIsQueued() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    ks.plan(PIPELINE_2, false, NOW);
    assertThat(a.idleSinceNanos).isEqualTo(NOW);
    assertThat(ks.takeIdleLeases(NOW + 5, 10, false)).isEmpty();
    assertThat(ks.takeIdleLeases(NOW + 10, 10, false)).containsExactly(a);
    assertThat(a.dead).isTrue();
    assertThat(ks.leases).isEmpty();
  }

  /** Runs task {@code n} on {@code lease} to its reply; the lease goes idle at {@code now}. */
  private static void runOne(KeyState ks, LeaseStream lease, int n, long now) {
    queue(ks, n);
    assertThat(ks.plan(PIPELINE_2, false, now).pushedTo(lease)).containsExactly(task(n));
    ks.applyReplies(
        lease,
        TaskResultBatch.newBuilder()
            .addResults(reply(n, PushTaskReply.getDefaultInstance()))
            .build());
    ks.plan(PIPELINE_2, false, now);
    assertThat(lease.idleSinceNanos).isEqualTo(now);
  }

  @Test
  void aLeaseThatRanOneTaskIsReturnedAfterTheIdleTimeout() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    runOne(ks, a, 1, NOW);
    long base = 50_000_000L;
    assertThat(ks.takeIdleLeases(NOW + base - 1, base, false)).isEmpty();
    assertThat(ks.takeIdleLeases(NOW + base, base, false)).containsExactly(a);
  }

  @Test
  void aWarmLeaseOfALoopIsKeptForTheWarmTimeoutWhileNoOtherKeyWaits() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    long base = 50_000_000L;
    runOne(ks, a, 1, NOW);
    runOne(ks, a, 2, NOW + 1);
    // The loop's caller paused for longer than the idle timeout between its tasks (a busy
    // machine): the lease is still there for the next task, on the same worker.
    assertThat(ks.takeIdleLeases(NOW + 1 + base, base, false)).isEmpty();
    runOne(ks, a, 3, NOW + 2 * base);
    long idleSince = NOW + 2 * base;
    assertThat(ks.takeIdleLeases(idleSince + base, base, false)).isEmpty();
    assertThat(ks.takeIdleLeases(idleSince + KeyState.WARM_IDLE_TIMEOUT_NANOS - 1, base, false))
        .isEmpty();
    assertThat(ks.takeIdleLeases(idleSince + KeyState.WARM_IDLE_TIMEOUT_NANOS, base, false))
        .as("a loop that stopped gives its worker back after the warm timeout")
        .containsExactly(a);
  }

  @Test
  void aWarmLeaseIsReturnedAfterTheIdleTimeoutWhenAnotherKeyWaitsForALease() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    long base = 50_000_000L;
    runOne(ks, a, 1, NOW);
    runOne(ks, a, 2, NOW + 1);
    assertThat(ks.takeIdleLeases(NOW + 1 + base - 1, base, true)).isEmpty();
    assertThat(ks.takeIdleLeases(NOW + 1 + base, base, true)).containsExactly(a);
  }

  @Test
  void onlyTheFirstPushOnALeaseNamesTheLease() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    queue(ks, 1, 2);
    List<PushTaskRequest> first =
        ks.plan(PIPELINE_2, false, NOW).pushes().get(a).getFirst().getTasksList();
    assertThat(first.get(0).getLeaseId()).isEqualTo(a.grant.getLeaseId());
    assertThat(first.get(1).getLeaseId()).isEmpty();
    assertThat(first.get(1).getIntendedWorkerId()).isEmpty();
    ks.applyReplies(
        a,
        TaskResultBatch.newBuilder()
            .addResults(reply(1, PushTaskReply.getDefaultInstance()))
            .build());
    queue(ks, 3);
    assertThat(ks.plan(PIPELINE_2, false, NOW).pushes().get(a).getFirst().getTasks(0).getLeaseId())
        .as("the worker knows its stream's lease from the first push")
        .isEmpty();
  }

  @Test
  void batchSizeIsSummedAsTasksAreAddedAndStaysUnderTheLimit() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    queue(ks, 1, 2, 3, 4, 5);
    int onePush =
        PushTaskBatch.newBuilder()
            .addTasks(
                PushTaskRequest.newBuilder()
                    .setSpec(task(1))
                    .setIntendedWorkerId(a.grant.getWorker().getWorkerId())
                    .setLeaseId(a.grant.getLeaseId()))
            .build()
            .getSerializedSize();
    int limit = 2 * (onePush + 6) + 1;
    List<PushTaskBatch> messages =
        ks.plan(new KeyState.Rules(10, limit, id -> false), false, NOW).pushes().get(a);
    assertThat(messages).extracting(PushTaskBatch::getTasksCount).containsExactly(2, 2, 1);
    assertThat(messages).allMatch(m -> m.getSerializedSize() <= limit);
  }

  @Test
  void workerDeathChargesOnlyTheFirstInFlightAndTasksReportedStarted() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    queue(ks, 1, 2, 3, 4);
    ks.plan(new KeyState.Rules(4, 1 << 20, id -> false), false, NOW);
    // Task 1 blocked; the worker started task 3 behind it and reported so.
    ks.applyReplies(a, TaskResultBatch.newBuilder().addStartedTaskIds(task(3).getTaskId()).build());
    LostTasks lost = ks.loseLease(a);
    assertThat(lost.ran()).containsExactly(task(1), task(3));
    assertThat(lost.neverStarted())
        .as("requeued unchanged: same attempt number")
        .containsExactly(task(2), task(4));
    assertThat(ks.loseLease(a)).as("a lease is lost once").isNull();
  }

  @Test
  void aFinishedTaskIsNotChargedAndTheNextInFlightIs() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    queue(ks, 1, 2, 3);
    ks.plan(new KeyState.Rules(4, 1 << 20, id -> false), false, NOW);
    ks.applyReplies(
        a,
        TaskResultBatch.newBuilder()
            .addStartedTaskIds(task(1).getTaskId())
            .addResults(reply(1, PushTaskReply.getDefaultInstance()))
            .build());
    assertThat(a.started).isEmpty();
    LostTasks lost = ks.loseLease(a);
    assertThat(lost.ran()).containsExactly(task(2));
    assertThat(lost.neverStarted()).containsExactly(task(3));
  }

  @Test
  void stolenTasksReturnToTheQueueHead() {
    KeyState ks = key(false);
    LeaseStream a = lease(ks, "a");
    queue(ks, 1, 2, 3);
    ks.plan(new KeyState.Rules(2, 1 << 20, id -> false), false, NOW);
    a.stealPending = true;
    KeyState.Replies stolen =
        ks.applyReplies(
            a,
            TaskResultBatch.newBuilder()
                .addResults(reply(2, PushTaskReply.newBuilder().setRequeue(true).build()))
                .setStealDone(true)
                .build());
    assertThat(stolen.requeued()).containsExactly(task(2));
    assertThat(ks.queue).containsExactly(task(2), task(3));
    assertThat(a.stealPending).isFalse();
    assertThat(a.inFlight).containsOnlyKeys(KeyState.taskId(task(1)));
  }
}
