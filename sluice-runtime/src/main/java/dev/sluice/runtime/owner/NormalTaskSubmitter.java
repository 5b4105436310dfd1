package dev.sluice.runtime.owner;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.ObjectRefInfo;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.state.TaskEvents;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Submits an owner's normal tasks: resolves their {@code ObjectRef} arguments, leases workers from
 * the node manager and pushes tasks straight to the leased workers (Ray's direct task submission).
 * This is the entry class; the work is split by role: {@link DependencyResolver} resolves
 * arguments, {@link KeyState} holds a scheduling key's queue and leases and decides who gets what
 * ({@link KeyPlan}), {@link LeaseRequester} talks to node managers about leases, {@link
 * LeaseStream} is a granted lease's task stream and its replies, and {@link WorkerFailures} handles
 * a leased worker's death. This class carries out the plans and owns idle lease return,
 * cancellation and taking queued tasks back (work helping).
 *
 * <p>Tasks are queued per scheduling key: the task's job and resource shape. A lease serves any
 * task of its key, so a burst of tasks reuses a few workers instead of asking the node manager per
 * task; up to {@code maxTasksInFlightPerWorker} tasks are pipelined to one worker (streaming
 * generators have keys of their own and run one per lease). A lease with nothing to do is kept for
 * {@code leaseIdleTimeout} and then returned by a periodic sweep; a warm one, which ran several
 * tasks, is kept longer while no other key waits for a lease ({@link KeyState#takeIdleLeases}).
 *
 * <p>A worker that dies costs a retry to the task it was running only: the tasks queued behind it
 * on that worker are queued here again as they were ({@link LostTasks}).
 *
 * <p>Threads: all of a key's state is guarded by its {@link KeyState} monitor; RPCs are started
 * after the monitor is released, because with direct executors their callbacks may run inline.
 */
public final class NormalTaskSubmitter {
  private static final Logger log = LoggerFactory.getLogger(NormalTaskSubmitter.class);

  /**
   * How a submitter leases and pipelines: {@code nodeManagerTarget} is asked for leases first (it
   * may send a request on to another node); up to {@code maxTasksInFlightPerWorker} tasks go to one
   * worker; a lease idle for {@code leaseIdleTimeout} is returned; push messages stay under half of
   * {@code maxMessageBytes}; a task no node can serve waits up to {@code unschedulableTimeout} for
   * one that can (zero: fails at once).
   */
  public record Options(
      String nodeManagerTarget,
      int maxTasksInFlightPerWorker,
      Duration leaseIdleTimeout,
      int maxMessageBytes,
      Duration unschedulableTimeout) {}

  private final TaskManager taskManager;
  private final ChannelPool channels;
  private final Duration leaseIdleTimeout;
  private final KeyState.Rules rules;
  private final SchedulingQueues queues = new SchedulingQueues();
  private final DependencyResolver dependencies;
  private final LeaseRequester requester;
  private final WorkerFailures failures;
  private final Hooks hooks = new Hooks();
  private volatile boolean closed;

  /** Told of each task put in (or back in) a queue here: wakes a task waiting to run it inline. */
  private volatile Consumer<TaskId> queuedListener = id -> {};

  /**
   * A submitter that leases as {@code options} say and resolves ref arguments with {@code
   * resolver}. {@code nodeManagerReachable} tells a node's death from a worker's when a worker
   * fails.
   */
  public NormalTaskSubmitter(
      TaskManager taskManager,
      ChannelPool channels,
      Address self,
      Function<ObjectRefInfo, CompletableFuture<ObjectValue>> resolver,
      ScheduledExecutorService timers,
      Predicate<String> nodeManagerReachable,
      Options options) {
    this.taskManager = taskManager;
    this.channels = channels;
    this.leaseIdleTimeout = options.leaseIdleTimeout();
    this.rules =
        new KeyState.Rules(
            options.maxTasksInFlightPerWorker(),
            options.maxMessageBytes() / 2,
            taskManager::isCancelled);
    this.dependencies = new DependencyResolver(taskManager, resolver);
    this.requester =
        new LeaseRequester(
            LeaseRequester.NodeManagers.over(channels),
            options.nodeManagerTarget(),
            self,
            timers,
            options.unschedulableTimeout(),
            hooks);
    @SuppressWarnings("GuardedBy") // WorkerFailures calls it holding the key's monitor
    Function<KeyState, Runnable> plan = this::planLocked;
    this.failures =
        new WorkerFailures(
            taskManager, queues, channels, requester, nodeManagerReachable, plan, () -> closed);
    long sweep = Math.max(1, leaseIdleTimeout.toMillis() / 2);
    timers.scheduleWithFixedDelay(this::returnIdleLeases, sweep, sweep, TimeUnit.MILLISECONDS);
  }

  /** Submits a task recorded in the task manager: resolves its arguments, then schedules it. */
  public void submit(TaskSpec spec) {
    dependencies.resolve(spec, this::enqueue);
  }

  private void enqueue(TaskSpec spec) {
    if (taskManager.isCancelled(taskId(spec))) {
      taskManager.fail(taskId(spec), TaskManager.cancelledError(spec), false);
      return;
    }
    taskManager.events().pendingNodeAssignment(spec);
    KeyState ks = queues.keyFor(spec);
    Runnable actions;
    synchronized (ks) {
      ks.queue.add(spec);
      actions = planLocked(ks);
    }
    actions.run();
    queuedListener.accept(taskId(spec));
  }

  /**
   * Defers lease requests by {@code delay} after tasks are queued (zero: ask at once). Workers use
   * a short delay: the children a task joins right away then run inline without a lease request and
   * its cancellation reaching the node manager.
   */
  public void setLeaseRequestDelay(Duration delay) {
    requester.setLeaseRequestDelay(delay);
  }

  /** Sets who is told of each task queued here (one listener; the work-helping waiter). */
  public void onQueued(Consumer<TaskId> listener) {
    this.queuedListener = listener;
  }

  /**
   * Takes task {@code id} back if it is still queued here (not yet sent to any worker) and {@code
   * eligible} accepts it, so its owner can run it itself; null otherwise. Lease requests made for
   * it are cancelled by the usual backlog rule.
   */
  public TaskSpec takeQueued(TaskId id, Predicate<TaskSpec> eligible) {
    for (KeyState ks : queues.all()) {
      TaskSpec taken;
      Runnable actions;
      synchronized (ks) {
        taken = ks.removeQueued(id, s -> eligible.test(s) && !taskManager.isCancelled(id));
        if (taken == null) {
          if (ks.queue.stream().anyMatch(s -> taskId(s).equals(id))) {
            return null;
          }
          continue;
        }
        actions = planLocked(ks);
      }
      actions.run();
      return taken;
    }
    return null;
  }

  /**
   * Plans key {@code ks}, whose monitor the caller holds, and returns the plan's actions, to run
   * once the monitor is released.
   */
  @GuardedBy("ks")
  private Runnable planLocked(KeyState ks) {
    KeyPlan plan = ks.plan(rules, requester.defersRequests(), System.nanoTime());
    return () -> carryOut(ks, plan);
  }

  private void carryOut(KeyState ks, KeyPlan plan) {
    for (TaskSpec spec : plan.cancelled()) {
      taskManager.fail(taskId(spec), TaskManager.cancelledError(spec), false);
    }
    TaskEvents events = taskManager.events();
    plan.pushes()
        .forEach(
            (lease, batches) ->
                batches.forEach(
                    batch -> {
                      lease.send(batch);
                      pushed(events, batch);
                    }));
    if (plan.deferLeaseRequests()) {
      requester.requestDeferred(ks);
    }
    for (ByteString id : plan.newLeaseRequests()) {
      requester.requestLease(ks, id);
    }
    plan.cancelledLeaseRequests().forEach(requester::cancelLeaseRequest);
  }

  private static void pushed(TaskEvents events, PushTaskBatch batch) {
    for (int i = 0; i < batch.getTasksCount(); i++) {
      events.submittedToWorker(batch.getTasks(i).getSpec());
    }
  }

  /** What the parts of the submitter ask of it. */
  private final class Hooks implements LeaseRequester.Events, LeaseStream.Events {
    @Override
    @GuardedBy("ks")
    public Runnable planLocked(KeyState ks) {
      return NormalTaskSubmitter.this.planLocked(ks);
    }

    @Override
    @GuardedBy("ks")
    public Runnable grantedLocked(KeyState ks, LeaseReply grant, String grantedBy) {
      LeaseStream lease = new LeaseStream(grant, grantedBy);
      lease.open(channels, ks, taskManager, this);
      ks.leases.add(lease);
      return planLocked(ks);
    }

    @Override
    public void failTask(TaskSpec spec, ErrorInfo error) {
      taskManager.fail(taskId(spec), error, false);
    }

    @Override
    public boolean closed() {
      return closed;
    }

    @Override
    public void queued(TaskId id) {
      queuedListener.accept(id);
    }

    @Override
    public void workerFailed(KeyState ks, LeaseStream lease, Throwable t) {
      failures.onWorkerFailed(ks, lease, t, null);
    }
  }

  /**
   * Fails every lease on node {@code nodeId} as if its worker had died: the control service
   * declared the node dead, which may come before (or instead of) the connections breaking.
   */
  public void onNodeDied(ByteString nodeId) {
    failures.failLeasesOn(nodeId, "it was declared dead by the control service");
  }

  /**
   * Returns leases that have had nothing to do for {@code leaseIdleTimeout}. Runs periodically on
   * the timer thread; a sweep instead of a timer per lease keeps the task path free of timer
   * scheduling.
   */
  private void returnIdleLeases() {
    long now = System.nanoTime();
    boolean someKeyWaits = false;
    for (KeyState ks : queues.all()) {
      synchronized (ks) {
        someKeyWaits |= !ks.pendingLeaseRequests.isEmpty();
      }
    }
    for (KeyState ks : queues.all()) {
      List<LeaseStream> idle;
      synchronized (ks) {
        boolean othersWait = someKeyWaits && ks.pendingLeaseRequests.isEmpty();
        idle = ks.takeIdleLeases(now, leaseIdleTimeout.toNanos(), othersWait);
      }
      for (LeaseStream lease : idle) {
        lease.close();
        requester.returnLease(lease.grantedBy, lease.grant.getLeaseId(), false);
      }
    }
  }

  /**
   * Cancels a task of this owner: a queued one fails at once with {@code TASK_CANCELLED}; a running
   * one is asked to stop on its worker. The caller has already marked it cancelled. Returns true if
   * the task is in flight on a worker (it may not stop: see {@link #killWorkerRunning}).
   */
  public boolean cancel(TaskId id) {
    for (KeyState ks : queues.all()) {
      TaskSpec removed;
      LeaseStream runningOn = null;
      synchronized (ks) {
        removed = ks.removeQueued(id, s -> true);
        if (removed == null) {
          runningOn = ks.leaseRunning(id);
        }
      }
      if (removed != null) {
        taskManager.fail(id, TaskManager.cancelledError(removed), false);
        return false;
      }
      if (runningOn != null) {
        // In-band, after the push on the same stream, so the worker always knows the task.
        runningOn.sendQuietly(
            PushTaskBatch.newBuilder().addCancelTaskIds(ByteString.copyFrom(id.toBytes())).build());
        return true;
      }
    }
    return false;
  }

  /**
   * Has the worker running cancelled task {@code id} killed by the node manager that granted its
   * lease, which takes the lease's resources back. The cancelled tasks on the lease fail with
   * {@code TASK_CANCELLED} (saying {@code why}) once the node manager answered; the others are
   * queued again without using a retry: a worker runs its tasks in order, so they had not started
   * (or, at worst, finished with their reply still on its way: they then run again). Returns false
   * if the task is not in flight any more.
   */
  public boolean killWorkerRunning(TaskId id, String why) {
    for (KeyState ks : queues.all()) {
      LeaseStream lease;
      List<TaskSpec> cancelled = new ArrayList<>();
      Runnable actions;
      synchronized (ks) {
        lease = ks.leaseRunning(id);
        if (lease == null) {
          continue;
        }
        ks.leases.remove(lease);
        lease.dead = true;
        List<TaskSpec> again = new ArrayList<>();
        for (TaskSpec s : lease.inFlight.values()) {
          (taskManager.isCancelled(taskId(s)) ? cancelled : again).add(s);
        }
        lease.inFlight.clear();
        ks.requeueFirst(again);
        actions = planLocked(ks);
      }
      String worker = lease.describeWorker();
      log.warn("killing {}: task {} was cancelled and {}", worker, id, why);
      requester
          .killWorker(lease, "task " + id + " was cancelled and " + why)
          .whenComplete(
              (r, e) -> {
                if (e != null) {
                  log.warn(
                      "node manager {} did not confirm killing {}: {}",
                      lease.grantedBy,
                      worker,
                      e.toString());
                }
                channels.evict(Addresses.target(lease.grant.getWorker()));
                for (TaskSpec s : cancelled) {
                  taskManager.fail(
                      taskId(s),
                      Errors.error(
                          ErrorType.TASK_CANCELLED,
                          "task "
                              + taskId(s)
                              + " ("
                              + s.getDisplayName()
                              + ") was cancelled and "
                              + why
                              + ": "
                              + worker
                              + " was killed"),
                      false);
                }
              });
      actions.run();
      return true;
    }
    return false;
  }

  /** Returns every held lease and ignores later failures; called at shutdown. */
  public void close() {
    closed = true;
    for (KeyState ks : queues.all()) {
      List<LeaseStream> held;
      synchronized (ks) {
        held = new ArrayList<>(ks.leases);
        ks.leases.clear();
        held.forEach(l -> l.dead = true);
      }
      held.forEach(
          l -> {
            l.close();
            requester.returnLease(l.grantedBy, l.grant.getLeaseId(), false);
          });
    }
  }

  private static TaskId taskId(TaskSpec spec) {
    return KeyState.taskId(spec);
  }
}
