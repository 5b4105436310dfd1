package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.CancelTaskRequest;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.ReturnWorkerRequest;
import dev.sluice.runtime.rpc.proto.TaskArg;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Submits an owner's normal tasks: resolves their {@code ObjectRef} arguments, leases workers
 * from the node manager and pushes tasks straight to the leased workers (Ray's direct task
 * submission).
 *
 * <p>Tasks are queued per scheduling key, the task's resource shape. A lease serves any task of
 * its key, so a burst of tasks reuses a few workers instead of asking the node manager per task;
 * up to {@code maxTasksInFlightPerWorker} tasks are pipelined to one worker. A lease with nothing
 * to do is kept for {@code leaseIdleTimeout} and then returned.
 *
 * <p>Threads: all of a key's state is guarded by its {@link KeyState} monitor; RPCs are started
 * after the monitor is released, because with direct executors their callbacks may run inline.
 */
public final class NormalTaskSubmitter {
  private static final Logger log = LoggerFactory.getLogger(NormalTaskSubmitter.class);
  private static final int MAX_PENDING_LEASE_REQUESTS = 8;

  private final TaskManager taskManager;
  private final ChannelPool channels;
  private final String nodeManagerTarget;
  private final Address self;
  private final Function<dev.sluice.runtime.rpc.proto.ObjectRefInfo,
      CompletableFuture<ObjectValue>> resolver;
  private final ScheduledExecutorService timers;
  private final int maxTasksInFlightPerWorker;
  private final Duration leaseIdleTimeout;
  private final ConcurrentHashMap<String, KeyState> keys = new ConcurrentHashMap<>();

  private static final class KeyState {
    final String key;
    final Map<String, Double> resources;
    final ArrayDeque<TaskSpec> queue = new ArrayDeque<>();
    final List<LeaseEntry> leases = new ArrayList<>();
    int pendingLeaseRequests;

    KeyState(String key, Map<String, Double> resources) {
      this.key = key;
      this.resources = resources;
    }
  }

  private static final class LeaseEntry {
    final LeaseReply grant;
    final CoreWorkerServiceGrpc.CoreWorkerServiceStub stub;
    final Map<TaskId, TaskSpec> inFlight = new LinkedHashMap<>();
    ScheduledFuture<?> idleTimer;

    LeaseEntry(LeaseReply grant, CoreWorkerServiceGrpc.CoreWorkerServiceStub stub) {
      this.grant = grant;
      this.stub = stub;
    }

    String describeWorker() {
      return "worker " + Addresses.workerId(grant.getWorker()) + " (pid " + grant.getWorkerPid()
          + ") on node " + Addresses.nodeId(grant.getWorker());
    }
  }

  /**
   * A submitter that leases from the node manager at {@code nodeManagerTarget} and resolves ref
   * arguments with {@code resolver}.
   */
  public NormalTaskSubmitter(TaskManager taskManager, ChannelPool channels,
      String nodeManagerTarget, Address self,
      Function<dev.sluice.runtime.rpc.proto.ObjectRefInfo, CompletableFuture<ObjectValue>> resolver,
      ScheduledExecutorService timers, int maxTasksInFlightPerWorker, Duration leaseIdleTimeout) {
    this.taskManager = taskManager;
    this.channels = channels;
    this.nodeManagerTarget = nodeManagerTarget;
    this.self = self;
    this.resolver = resolver;
    this.timers = timers;
    this.maxTasksInFlightPerWorker = maxTasksInFlightPerWorker;
    this.leaseIdleTimeout = leaseIdleTimeout;
  }

  /** Submits a task recorded in the task manager: resolves its arguments, then schedules it. */
  public void submit(TaskSpec spec) {
    List<CompletableFuture<ObjectValue>> deps = new ArrayList<>();
    for (TaskArg a : spec.getArgsList()) {
      if (a.hasRef()) {
        deps.add(resolver.apply(a.getRef()));
      }
    }
    if (deps.isEmpty()) {
      enqueue(spec);
      return;
    }
    CompletableFuture.allOf(deps.toArray(CompletableFuture[]::new)).whenComplete((v, err) -> {
      TaskId id = taskId(spec);
      if (err != null) {
        taskManager.fail(id, Errors.error(ErrorType.OBJECT_LOST, "task " + id + " ("
            + spec.getDisplayName() + ") could not resolve an argument: " + err), false);
        return;
      }
      TaskSpec.Builder resolved = spec.toBuilder().clearArgs();
      int d = 0;
      for (TaskArg a : spec.getArgsList()) {
        if (!a.hasRef()) {
          resolved.addArgs(a);
          continue;
        }
        ObjectValue value = deps.get(d++).join();
        if (value.hasError()) {
          // A task whose argument failed fails with that same error, without running.
          taskManager.fail(id, value.getError(), false);
          return;
        }
        resolved.addArgs(TaskArg.newBuilder().setValue(value.getData()));
      }
      enqueue(resolved.build());
    });
  }

  private void enqueue(TaskSpec spec) {
    if (taskManager.isCancelled(taskId(spec))) {
      taskManager.fail(taskId(spec), TaskManager.cancelledError(spec), false);
      return;
    }
    String key = schedulingKey(spec.getResourcesMap());
    KeyState ks = keys.computeIfAbsent(key,
        k -> new KeyState(k, Map.copyOf(spec.getResourcesMap())));
    List<Runnable> actions;
    synchronized (ks) {
      ks.queue.add(spec);
      actions = planLocked(ks);
    }
    actions.forEach(Runnable::run);
  }

  static String schedulingKey(Map<String, Double> resources) {
    return new TreeMap<>(resources).toString();
  }

  private List<Runnable> planLocked(KeyState ks) {
    List<Runnable> actions = new ArrayList<>();
    for (LeaseEntry lease : ks.leases) {
      while (lease.inFlight.size() < maxTasksInFlightPerWorker && !ks.queue.isEmpty()) {
        TaskSpec spec = ks.queue.poll();
        lease.inFlight.put(taskId(spec), spec);
        if (lease.idleTimer != null) {
          lease.idleTimer.cancel(false);
          lease.idleTimer = null;
        }
        actions.add(() -> push(ks, lease, spec));
      }
      if (lease.inFlight.isEmpty() && lease.idleTimer == null) {
        lease.idleTimer = timers.schedule(() -> returnIfIdle(ks, lease),
            leaseIdleTimeout.toNanos(), TimeUnit.NANOSECONDS);
      }
    }
    int wanted = Math.min(ks.queue.size(), MAX_PENDING_LEASE_REQUESTS) - ks.pendingLeaseRequests;
    for (int i = 0; i < wanted; i++) {
      ks.pendingLeaseRequests++;
      actions.add(() -> requestLease(ks));
    }
    return actions;
  }

  private void requestLease(KeyState ks) {
    LeaseRequest req = LeaseRequest.newBuilder()
        .setLeaseRequestId(ByteString.copyFromUtf8(UUID.randomUUID().toString()))
        .putAllResources(ks.resources)
        .setSchedulingKey(ks.key)
        .setOwner(self)
        .build();
    NodeManagerServiceGrpc.newStub(channels.get(nodeManagerTarget))
        .requestWorkerLease(req, new StreamObserver<>() {
          @Override
          public void onNext(LeaseReply reply) {
            onLeaseReply(ks, reply);
          }

          @Override
          public void onError(Throwable t) {
            onLeaseReply(ks, LeaseReply.newBuilder().setRejected(true)
                .setFailureMessage("node manager at " + nodeManagerTarget + " unreachable: " + t)
                .build());
          }

          @Override
          public void onCompleted() {}
        });
  }

  private void onLeaseReply(KeyState ks, LeaseReply reply) {
    List<Runnable> actions;
    List<TaskSpec> failed = List.of();
    synchronized (ks) {
      ks.pendingLeaseRequests--;
      if (reply.getRejected()) {
        if (ks.leases.isEmpty() && ks.pendingLeaseRequests == 0) {
          failed = new ArrayList<>(ks.queue);
          ks.queue.clear();
        }
        actions = List.of();
      } else {
        ks.leases.add(new LeaseEntry(reply, CoreWorkerServiceGrpc.newStub(
            channels.get(Addresses.target(reply.getWorker())))));
        actions = planLocked(ks);
      }
    }
    if (!failed.isEmpty()) {
      log.error("cannot schedule {} task(s) needing {}: {}", failed.size(), ks.key,
          reply.getFailureMessage());
    }
    for (TaskSpec spec : failed) {
      ErrorType type = reply.getFailureMessage().contains("in total")
          ? ErrorType.TASK_UNSCHEDULABLE : ErrorType.NODE_DIED;
      taskManager.fail(taskId(spec), Errors.error(type, "task " + taskId(spec) + " ("
          + spec.getDisplayName() + ") cannot be scheduled: " + reply.getFailureMessage()), false);
    }
    actions.forEach(Runnable::run);
  }

  private void push(KeyState ks, LeaseEntry lease, TaskSpec spec) {
    PushTaskRequest req = PushTaskRequest.newBuilder()
        .setSpec(spec)
        .setIntendedWorkerId(lease.grant.getWorker().getWorkerId())
        .build();
    lease.stub.pushTask(req, new StreamObserver<>() {
      @Override
      public void onNext(PushTaskReply reply) {
        taskManager.complete(taskId(spec), reply);
      }

      @Override
      public void onError(Throwable t) {
        onWorkerFailed(ks, lease, t);
      }

      @Override
      public void onCompleted() {
        List<Runnable> actions;
        synchronized (ks) {
          lease.inFlight.remove(taskId(spec));
          actions = planLocked(ks);
        }
        actions.forEach(Runnable::run);
      }
    });
  }

  private void onWorkerFailed(KeyState ks, LeaseEntry lease, Throwable t) {
    List<TaskSpec> lost;
    List<Runnable> actions;
    synchronized (ks) {
      if (!ks.leases.remove(lease)) {
        return;
      }
      lost = new ArrayList<>(lease.inFlight.values());
      lease.inFlight.clear();
      if (lease.idleTimer != null) {
        lease.idleTimer.cancel(false);
      }
      actions = planLocked(ks);
    }
    String worker = lease.describeWorker();
    log.warn("{} failed: {}", worker, t.toString());
    channels.evict(Addresses.target(lease.grant.getWorker()));
    returnLease(lease, true);
    for (TaskSpec spec : lost) {
      TaskId id = taskId(spec);
      taskManager.fail(id, Errors.error(ErrorType.WORKER_DIED, "task " + id + " ("
          + spec.getDisplayName() + ", attempt " + spec.getAttemptNumber() + ") failed: " + worker
          + " died or became unreachable while running it (" + t.getMessage() + ")"), true);
    }
    actions.forEach(Runnable::run);
  }

  private void returnIfIdle(KeyState ks, LeaseEntry lease) {
    synchronized (ks) {
      if (!lease.inFlight.isEmpty() || !ks.queue.isEmpty() || !ks.leases.remove(lease)) {
        return;
      }
    }
    returnLease(lease, false);
  }

  private void returnLease(LeaseEntry lease, boolean disconnect) {
    NodeManagerServiceGrpc.newStub(channels.get(nodeManagerTarget)).returnWorker(
        ReturnWorkerRequest.newBuilder().setLeaseId(lease.grant.getLeaseId())
            .setDisconnectWorker(disconnect).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(dev.sluice.runtime.rpc.proto.ReturnWorkerReply value) {}

          @Override
          public void onError(Throwable t) {
            log.debug("returning lease failed: {}", t.toString());
          }

          @Override
          public void onCompleted() {}
        });
  }

  /**
   * Cancels a task of this owner: a queued one fails at once with {@code TASK_CANCELLED}; a
   * running one is asked to stop on its worker. The caller has already marked it cancelled.
   */
  public void cancel(TaskId id) {
    for (KeyState ks : keys.values()) {
      TaskSpec removed = null;
      LeaseEntry runningOn = null;
      synchronized (ks) {
        for (Iterator<TaskSpec> it = ks.queue.iterator(); it.hasNext(); ) {
          TaskSpec s = it.next();
          if (taskId(s).equals(id)) {
            it.remove();
            removed = s;
            break;
          }
        }
        if (removed == null) {
          for (LeaseEntry l : ks.leases) {
            if (l.inFlight.containsKey(id)) {
              runningOn = l;
            }
          }
        }
      }
      if (removed != null) {
        taskManager.fail(id, TaskManager.cancelledError(removed), false);
        return;
      }
      if (runningOn != null) {
        runningOn.stub.cancelTask(CancelTaskRequest.newBuilder()
            .setTaskId(ByteString.copyFrom(id.toBytes())).build(), new StreamObserver<>() {
              @Override
              public void onNext(dev.sluice.runtime.rpc.proto.CancelTaskReply value) {}

              @Override
              public void onError(Throwable t) {
                log.debug("cancel RPC failed: {}", t.toString());
              }

              @Override
              public void onCompleted() {}
            });
        return;
      }
    }
  }

  /** Returns every held lease; called at shutdown. */
  public void close() {
    for (KeyState ks : keys.values()) {
      List<LeaseEntry> held;
      synchronized (ks) {
        held = new ArrayList<>(ks.leases);
        ks.leases.clear();
      }
      held.forEach(l -> returnLease(l, false));
    }
  }

  private static TaskId taskId(TaskSpec spec) {
    return TaskId.fromBytes(spec.getTaskId().toByteArray());
  }
}
