package dev.sluice.runtime.owner;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.TaskId;
import dev.sluice.runtime.rpc.proto.NodeAffinity;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One scheduling key's tasks and leases (a key is a job and a resource shape): the queue of tasks
 * not yet pushed to a worker, the granted leases with the tasks in flight on each, and the
 * outstanding lease requests. It owns the scheduling rules that decide, from that state alone,
 * which lease gets which task (least-loaded push, pipelining limits, one task per lease for
 * generators), which lease is asked to give queued tasks back (work stealing) and how many lease
 * requests should be out (the backlog rule, with deferral): {@link #plan} returns those decisions
 * as a {@link KeyPlan} for the caller to carry out, so the rules run without RPCs.
 *
 * <p>Threads: not thread-safe. Every method is called, and every field read or written, under this
 * object's monitor; the RPCs a plan asks for are made after the monitor is released, because with
 * direct executors their callbacks may run inline.
 */
final class KeyState {
  /** The most lease requests a key has out at once. */
  static final int MAX_PENDING_LEASE_REQUESTS = 8;

  /** How long a warm lease (one that ran several tasks) is kept with nothing to do, at least. */
  static final long WARM_IDLE_TIMEOUT_NANOS = TimeUnit.MILLISECONDS.toNanos(300);

  /**
   * The fixed inputs of {@link #plan}: how many tasks one worker may have in flight, how large a
   * push message may grow, and which tasks were cancelled (those are never pushed).
   */
  record Rules(int maxTasksInFlightPerWorker, int maxBatchBytes, Predicate<TaskId> cancelled) {}

  final String key;

  /** The job of the key's tasks: a leased worker runs one job's code only. */
  final ByteString jobId;

  final Map<String, Double> resources;
  final NodeAffinity affinity;

  /**
   * Streaming generators: a lease runs one at a time and nothing is pipelined behind it (a stream
   * may run long, and a task queued behind it would wait that long, and be lost with it, without
   * having run).
   */
  final boolean oneTaskPerLease;

  /** Lease requests are deferred (see the lease request delay) and a timer will make them. */
  @GuardedBy("this")
  boolean leaseRequestScheduled;

  /** Set by that timer while it plans: the requests are due now. */
  @GuardedBy("this")
  boolean leaseRequestDue;

  /** When lease requests of this key were first found infeasible everywhere, or -1. */
  @GuardedBy("this")
  long infeasibleSinceNanos = -1;

  @GuardedBy("this")
  final ArrayDeque<TaskSpec> queue = new ArrayDeque<>();

  @GuardedBy("this")
  final List<LeaseStream> leases = new ArrayList<>();

  @GuardedBy("this")
  final List<ByteString> pendingLeaseRequests = new ArrayList<>();

  KeyState(
      String key,
      ByteString jobId,
      Map<String, Double> resources,
      NodeAffinity affinity,
      boolean oneTaskPerLease) {
    this.oneTaskPerLease = oneTaskPerLease;
    this.key = key;
    this.jobId = jobId;
    this.resources = resources;
    this.affinity = affinity;
  }

  /** Tasks not running yet: queued here, or pipelined behind a running task on a worker. */
  @GuardedBy("this")
  int backlog() {
    int n = queue.size();
    for (LeaseStream l : leases) {
      n += Math.max(0, l.inFlight.size() - 1);
    }
    return n;
  }

  /**
   * Decides what to do now: pushes queued tasks to leases, asks a lease to give tasks back when
   * another is idle, and brings the outstanding lease requests in line with the backlog. Updates
   * this state as if the decisions were carried out (tasks in flight, requests pending). {@code
   * deferLeaseRequests}: new lease requests wait for a timer instead of going out now, unless that
   * timer is planning ({@link #leaseRequestDue}).
   */
  @GuardedBy("this")
  KeyPlan plan(Rules rules, boolean deferLeaseRequests, long nowNanos) {
    List<TaskSpec> cancelled = new ArrayList<>();
    Map<LeaseStream, List<PushTaskBatch.Builder>> batches = new LinkedHashMap<>();
    // The size of each lease's last message so far.
    Map<LeaseStream, Long> lastBatchBytes = new HashMap<>();
    // Each task goes to the least loaded lease, so a burst spreads over every worker before any
    // worker gets a second task queued, and stolen tasks go to the idle worker, not back.
    int maxInFlight = oneTaskPerLease ? 1 : rules.maxTasksInFlightPerWorker();
    while (!queue.isEmpty()) {
      LeaseStream target = null;
      for (LeaseStream lease : leases) {
        if (lease.inFlight.size() < maxInFlight
            && (target == null || lease.inFlight.size() < target.inFlight.size())) {
          target = lease;
        }
      }
      if (target == null) {
        break;
      }
      TaskSpec spec = queue.poll();
      TaskId id = taskId(spec);
      if (rules.cancelled().test(id)) {
        // Cancelled while on its way back to us (stolen or requeued): it must never run.
        cancelled.add(spec);
        continue;
      }
      target.inFlight.put(id, spec);
      List<PushTaskBatch.Builder> forLease =
          batches.computeIfAbsent(
              target, l -> new ArrayList<>(List.of(PushTaskBatch.newBuilder())));
      PushTaskBatch.Builder batch = forLease.getLast();
      PushTaskRequest.Builder pushed = PushTaskRequest.newBuilder().setSpec(spec);
      if (target.tasksRun++ == 0) {
        // The first push on a lease's stream names the lease, and the worker keeps it for the
        // stream; later pushes leave out what their stream already says.
        pushed
            .setIntendedWorkerId(target.grant.getWorker().getWorkerId())
            .setLeaseId(target.grant.getLeaseId());
      }
      PushTaskRequest push = pushed.build();
      // Several tasks share a message, but never beyond the batch limit. The size is summed as
      // tasks are added (a task's entry costs its size plus a tag and a length of at most 6
      // bytes), not measured by building the batch again for every task.
      long pushBytes = push.getSerializedSize() + 6L;
      long batchBytes = lastBatchBytes.getOrDefault(target, 0L);
      if (batch.getTasksCount() > 0 && batchBytes + pushBytes > rules.maxBatchBytes()) {
        batch = PushTaskBatch.newBuilder();
        forLease.add(batch);
        batchBytes = 0;
      }
      batch.addTasks(push);
      lastBatchBytes.put(target, batchBytes + pushBytes);
    }
    for (LeaseStream lease : leases) {
      if (!lease.inFlight.isEmpty()) {
        lease.idleSinceNanos = -1;
      } else if (lease.idleSinceNanos < 0) {
        lease.idleSinceNanos = nowNanos;
      }
    }
    LeaseStream victim = queue.isEmpty() ? stealVictim() : null;
    if (victim != null) {
      victim.stealPending = true;
      batches
          .computeIfAbsent(victim, l -> new ArrayList<>(List.of(PushTaskBatch.newBuilder())))
          .getLast()
          .setSteal(true);
    }
    Map<LeaseStream, List<PushTaskBatch>> pushes = new LinkedHashMap<>();
    batches.forEach(
        (lease, list) ->
            pushes.put(lease, list.stream().map(PushTaskBatch.Builder::build).toList()));
    // Lease requests follow the backlog: one per task that is not running yet (up to a cap),
    // so pipelining onto a few workers never stops the owner from asking for more; requests no
    // longer needed are cancelled.
    int wanted = Math.min(backlog(), MAX_PENDING_LEASE_REQUESTS);
    boolean scheduleDeferred = false;
    if (pendingLeaseRequests.size() < wanted && deferLeaseRequests && !leaseRequestDue) {
      // A task's children are usually joined at once and then run inline (the work-helping
      // rule): ask for leases only for children still queued a moment later.
      if (!leaseRequestScheduled) {
        leaseRequestScheduled = true;
        scheduleDeferred = true;
      }
      wanted = pendingLeaseRequests.size();
    }
    List<ByteString> newRequests = new ArrayList<>();
    while (pendingLeaseRequests.size() < wanted) {
      ByteString id = ByteString.copyFromUtf8(UUID.randomUUID().toString());
      pendingLeaseRequests.add(id);
      newRequests.add(id);
    }
    List<ByteString> cancelledRequests = new ArrayList<>();
    while (pendingLeaseRequests.size() > wanted) {
      cancelledRequests.add(pendingLeaseRequests.removeLast());
    }
    return new KeyPlan(cancelled, pushes, victim, scheduleDeferred, newRequests, cancelledRequests);
  }

  /**
   * Work stealing: when a lease of this key is idle while another has tasks waiting behind a
   * running one, the busiest lease's queued tasks are taken back to be spread again. Pipelining
   * keeps throughput high; stealing keeps it from starving a worker that arrived late.
   */
  @GuardedBy("this")
  LeaseStream stealVictim() {
    boolean someIdle = false;
    LeaseStream busiest = null;
    for (LeaseStream l : leases) {
      if (l.inFlight.isEmpty()) {
        someIdle = true;
      } else if (!l.stealPending
          && l.inFlight.size() >= 2
          && (busiest == null || l.inFlight.size() > busiest.inFlight.size())) {
        busiest = l;
      }
    }
    return someIdle ? busiest : null;
  }

  /** What a batch of a lease's replies did: tasks finished, and tasks given back to the queue. */
  record Replies(List<TaskResult> finished, List<TaskSpec> requeued) {}

  /**
   * Applies a batch of replies from {@code lease}'s worker: finished tasks leave the lease, tasks
   * it gave back (stolen) go back to the queue's head in their order, and the tasks it reports
   * started are remembered for a worker death.
   */
  @GuardedBy("this")
  Replies applyReplies(LeaseStream lease, TaskResultBatch batch) {
    List<TaskResult> finished = new ArrayList<>(batch.getResultsCount());
    List<TaskSpec> requeued = new ArrayList<>();
    for (TaskResult r : batch.getResultsList()) {
      TaskSpec spec = lease.inFlight.remove(TaskId.fromBytes(r.getTaskId().toByteArray()));
      if (spec == null) {
        continue;
      }
      if (r.getReply().getRequeue()) {
        requeued.add(spec);
      } else {
        finished.add(r);
      }
    }
    lease.started.addAll(batch.getStartedTaskIdsList());
    for (TaskResult r : batch.getResultsList()) {
      lease.started.remove(r.getTaskId());
    }
    if (batch.getStealDone()) {
      lease.stealPending = false;
    }
    requeueFirst(requeued);
    return new Replies(finished, requeued);
  }

  /**
   * Drops {@code lease}, whose worker failed, and splits its tasks into those charged a retry and
   * those that never started; null if the lease was already dropped.
   */
  @GuardedBy("this")
  LostTasks loseLease(LeaseStream lease) {
    if (!leases.remove(lease) || lease.dead) {
      return null;
    }
    lease.dead = true;
    LostTasks lost = LostTasks.of(lease.inFlight.values(), lease.started);
    lease.inFlight.clear();
    return lost;
  }

  /** Puts {@code specs} back at the queue's head, in their order. */
  @GuardedBy("this")
  void requeueFirst(List<TaskSpec> specs) {
    for (int i = specs.size() - 1; i >= 0; i--) {
      queue.addFirst(specs.get(i));
    }
  }

  /** Removes queued task {@code id} if {@code take} accepts it; null if not queued or refused. */
  @GuardedBy("this")
  TaskSpec removeQueued(TaskId id, Predicate<TaskSpec> take) {
    for (Iterator<TaskSpec> it = queue.iterator(); it.hasNext(); ) {
      TaskSpec s = it.next();
      if (taskId(s).equals(id)) {
        if (!take.test(s)) {
          return null;
        }
        it.remove();
        return s;
      }
    }
    return null;
  }

  /** The lease task {@code id} is in flight on, or null. */
  @GuardedBy("this")
  LeaseStream leaseRunning(TaskId id) {
    for (LeaseStream l : leases) {
      if (l.inFlight.containsKey(id)) {
        return l;
      }
    }
    return null;
  }

  /**
   * Removes and returns the leases that have had nothing to do for their idle timeout, if no task
   * is queued: {@code idleTimeoutNanos} for a lease that ran at most one task, and at least {@link
   * #WARM_IDLE_TIMEOUT_NANOS} for a warm one, which ran several (the key's tasks keep coming, as in
   * a loop of {@code remote().get()}: a pause of the caller, such as a busy machine's scheduling
   * delay, must not hand its warm worker back and move the loop to another one), unless {@code
   * othersWaiting}: another key of this owner waits for a lease, and the warm worker's resources
   * may be what it waits for.
   */
  @GuardedBy("this")
  List<LeaseStream> takeIdleLeases(long nowNanos, long idleTimeoutNanos, boolean othersWaiting) {
    List<LeaseStream> idle = new ArrayList<>();
    if (!queue.isEmpty()) {
      return idle;
    }
    for (Iterator<LeaseStream> it = leases.iterator(); it.hasNext(); ) {
      LeaseStream lease = it.next();
      long timeout =
          lease.tasksRun > 1 && !othersWaiting
              ? Math.max(idleTimeoutNanos, WARM_IDLE_TIMEOUT_NANOS)
              : idleTimeoutNanos;
      if (lease.inFlight.isEmpty()
          && lease.idleSinceNanos >= 0
          && nowNanos - lease.idleSinceNanos >= timeout) {
        it.remove();
        lease.dead = true;
        idle.add(lease);
      }
    }
    return idle;
  }

  static TaskId taskId(TaskSpec spec) {
    return TaskId.fromBytes(spec.getTaskId().toByteArray());
  }
}
