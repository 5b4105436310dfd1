package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.Callbacks;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.CancelLeaseRequest;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.NodeAffinity;
import dev.sluice.NodeId;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturns;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturnsReply;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.ReturnWorkerReply;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Submits an owner's normal tasks: resolves their {@code ObjectRef} arguments, leases workers
 * from the node manager and pushes tasks straight to the leased workers (Ray's direct task
 * submission).
 *
 * <p>Tasks are queued per scheduling key: the task's job and resource shape. A lease serves any
 * task of its key, so a burst of tasks reuses a few workers instead of asking the node manager per
 * task; up to {@code maxTasksInFlightPerWorker} tasks are pipelined to one worker (streaming
 * generators have keys of their own and run one per lease). A lease with nothing to do is kept
 * for {@code leaseIdleTimeout} and then returned by a periodic sweep.
 *
 * <p>A worker that dies costs a retry to the task it was running only: the tasks queued behind it
 * on that worker are queued here again as they were ({@link LostTasks}).
 *
 * <p>Threads: all of a key's state is guarded by its {@link KeyState} monitor; RPCs are started
 * after the monitor is released, because with direct executors their callbacks may run inline.
 */
public final class NormalTaskSubmitter {
  private static final Logger log = LoggerFactory.getLogger(NormalTaskSubmitter.class);
  private static final int MAX_PENDING_LEASE_REQUESTS = 8;
  /**
   * How many times a lease request is sent on from node to node: the local node, the node a
   * preference names, and a node with the resources take two; more means the nodes disagree.
   */
  static final int MAX_LEASE_REDIRECTS = 4;

  private final TaskManager taskManager;
  private final ChannelPool channels;
  private final String nodeManagerTarget;
  private final Address self;
  private final Function<dev.sluice.runtime.rpc.proto.ObjectRefInfo,
      CompletableFuture<ObjectValue>> resolver;
  private final int maxTasksInFlightPerWorker;
  private final Duration leaseIdleTimeout;
  private final int maxBatchBytes;
  private final ConcurrentHashMap<String, KeyState> keys = new ConcurrentHashMap<>();
  /** The node manager each outstanding lease request was last sent to (for cancels). */
  private final ConcurrentHashMap<ByteString, String> requestTargets = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timers;
  private final Duration unschedulableTimeout;
  private final java.util.function.Predicate<String> nodeManagerReachable;
  private volatile boolean closed;
  private volatile Duration leaseRequestDelay = Duration.ZERO;
  /** Told of each task put in (or back in) a queue here: wakes a task waiting to run it inline. */
  private volatile java.util.function.Consumer<TaskId> queuedListener = id -> { };

  private static final class KeyState {
    final String key;
    /** The job of the key's tasks: a leased worker runs one job's code only. */
    final ByteString jobId;
    final Map<String, Double> resources;
    final NodeAffinity affinity;
    /** Lease requests are deferred (see leaseRequestDelay) and a timer will make them. */
    boolean leaseRequestScheduled;
    /** Set by that timer while it plans: the requests are due now. */
    boolean leaseRequestDue;
    /**
     * Streaming generators: a lease runs one at a time and nothing is pipelined behind it (a
     * stream may run long, and a task queued behind it would wait that long, and be lost with
     * it, without having run).
     */
    final boolean oneTaskPerLease;
    /** When lease requests of this key were first found infeasible everywhere, or -1. */
    long infeasibleSinceNanos = -1;
    final ArrayDeque<TaskSpec> queue = new ArrayDeque<>();
    final List<LeaseEntry> leases = new ArrayList<>();
    final List<ByteString> pendingLeaseRequests = new ArrayList<>();

    /** Tasks not running yet: queued here, or pipelined behind a running task on a worker. */
    int backlog() {
      int n = queue.size();
      for (LeaseEntry l : leases) {
        n += Math.max(0, l.inFlight.size() - 1);
      }
      return n;
    }

    KeyState(String key, ByteString jobId, Map<String, Double> resources,
        NodeAffinity affinity, boolean oneTaskPerLease) {
      this.oneTaskPerLease = oneTaskPerLease;
      this.key = key;
      this.jobId = jobId;
      this.resources = resources;
      this.affinity = affinity;
    }
  }

  /**
   * A granted lease and its task stream. {@code requests} is opened on grant and closed when the
   * lease is returned; sends on it are serialized by the entry's monitor.
   */
  private static final class LeaseEntry {
    final LeaseReply grant;
    /** The node manager that granted it, where it is returned. */
    final String grantedBy;
    final Map<TaskId, TaskSpec> inFlight = new LinkedHashMap<>();
    /**
     * Tasks in flight the worker reported started while an earlier one still ran (blocked); with
     * the first in flight, these are the ones a worker death charges. Guarded by the key.
     */
    final java.util.Set<ByteString> started = new java.util.HashSet<>();
    StreamObserver<PushTaskBatch> requests;
    /** When the lease last ran out of work (System.nanoTime), or -1 while it has some. */
    long idleSinceNanos = -1;
    /** The running task blocked and sent its queue back: push nothing until it replies. */
    boolean blocked;
    boolean dead;
    /** A steal request is out and its steal_done has not come back. */
    boolean stealPending;

    LeaseEntry(LeaseReply grant, String grantedBy) {
      this.grant = grant;
      this.grantedBy = grantedBy;
    }

    String describeWorker() {
      return "worker " + Addresses.workerId(grant.getWorker()) + " (pid " + grant.getWorkerPid()
          + ") on node " + Addresses.nodeId(grant.getWorker());
    }

    synchronized void send(PushTaskBatch batch) {
      requests.onNext(batch);
    }

    /** Sends a reply or a cancel; if the stream already closed, the worker no longer needs it. */
    synchronized void sendQuietly(PushTaskBatch batch) {
      try {
        requests.onNext(batch);
      } catch (RuntimeException e) {
        log.debug("message not sent (task stream closed): {}", e.toString());
      }
    }
  }

  /**
   * A submitter that leases from the node manager at {@code nodeManagerTarget} (which may send a
   * request on to another node) and resolves ref arguments with {@code resolver}. A task that no
   * node can serve waits up to {@code unschedulableTimeout} for one that can (zero: fails at
   * once). {@code nodeManagerReachable} tells a node's death from a worker's when a worker fails.
   */
  public NormalTaskSubmitter(TaskManager taskManager, ChannelPool channels,
      String nodeManagerTarget, Address self,
      Function<dev.sluice.runtime.rpc.proto.ObjectRefInfo, CompletableFuture<ObjectValue>> resolver,
      ScheduledExecutorService timers, int maxTasksInFlightPerWorker, Duration leaseIdleTimeout,
      int maxMessageBytes, Duration unschedulableTimeout,
      java.util.function.Predicate<String> nodeManagerReachable) {
    this.timers = timers;
    this.unschedulableTimeout = unschedulableTimeout;
    this.nodeManagerReachable = nodeManagerReachable;
    this.taskManager = taskManager;
    this.channels = channels;
    this.nodeManagerTarget = nodeManagerTarget;
    this.self = self;
    this.resolver = resolver;
    this.maxTasksInFlightPerWorker = maxTasksInFlightPerWorker;
    this.leaseIdleTimeout = leaseIdleTimeout;
    this.maxBatchBytes = maxMessageBytes / 2;
    long sweep = Math.max(1, leaseIdleTimeout.toMillis() / 2);
    timers.scheduleWithFixedDelay(this::returnIdleLeases, sweep, sweep, TimeUnit.MILLISECONDS);
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
      Map<ByteString, Long> sharedBytesByNode = new java.util.HashMap<>();
      int d = 0;
      for (TaskArg a : spec.getArgsList()) {
        if (!a.hasRef()) {
          resolved.addArgs(a);
          continue;
        }
        ObjectValue value = deps.get(d++).join();
        if (value.hasError()) {
          // A task whose argument failed fails with that same error, without running; an
          // argument that was lost (not failed) may be there on a retry.
          ErrorType type = value.getError().getType();
          taskManager.fail(id, value.getError(),
              type == ErrorType.OBJECT_LOST || type == ErrorType.OWNER_DIED);
          return;
        }
        if (value.hasShared()) {
          // In the node's store: the executor reads it from there by ref, never over RPC.
          resolved.addArgs(a);
          sharedBytesByNode.merge(value.getShared().getNodeId(), value.getShared().getSize(),
              Long::sum);
          continue;
        }
        resolved.addArgs(TaskArg.newBuilder().setValue(value.getData()));
      }
      if (!resolved.hasNodeAffinity() && !sharedBytesByNode.isEmpty()) {
        // Locality: a task with large arguments prefers the node that holds most of their bytes.
        ByteString best = java.util.Collections.max(sharedBytesByNode.entrySet(),
            Map.Entry.comparingByValue()).getKey();
        resolved.setNodeAffinity(NodeAffinity.newBuilder().setNodeId(best).setSoft(true));
      }
      enqueue(resolved.build());
    });
  }

  private void enqueue(TaskSpec spec) {
    if (taskManager.isCancelled(taskId(spec))) {
      taskManager.fail(taskId(spec), TaskManager.cancelledError(spec), false);
      return;
    }
    NodeAffinity affinity = spec.hasNodeAffinity() ? spec.getNodeAffinity() : null;
    String key = schedulingKey(spec.getResourcesMap(), affinity, spec.getStreamingGenerator());
    // Tasks of different jobs never share a lease (a worker nesting tasks of the job it runs
    // has one job, but a worker on the node's own class path may serve several in turn).
    KeyState ks = keys.computeIfAbsent(
        java.util.HexFormat.of().formatHex(spec.getJobId().toByteArray()) + "/" + key,
        k -> new KeyState(key, spec.getJobId(), Map.copyOf(spec.getResourcesMap()), affinity,
            spec.getStreamingGenerator()));
    List<Runnable> actions;
    synchronized (ks) {
      ks.queue.add(spec);
      actions = planLocked(ks);
    }
    actions.forEach(Runnable::run);
    queuedListener.accept(taskId(spec));
  }

  /**
   * Defers lease requests by {@code delay} after tasks are queued (zero: ask at once). Workers
   * use a short delay: the children a task joins right away then run inline without a lease
   * request and its cancellation reaching the node manager.
   */
  public void setLeaseRequestDelay(Duration delay) {
    this.leaseRequestDelay = delay;
  }

  private void scheduleLeaseRequests(KeyState ks) {
    try {
      timers.schedule(() -> {
        List<Runnable> actions;
        synchronized (ks) {
          ks.leaseRequestScheduled = false;
          ks.leaseRequestDue = true;
          try {
            actions = planLocked(ks);
          } finally {
            ks.leaseRequestDue = false;
          }
        }
        actions.forEach(Runnable::run);
      }, leaseRequestDelay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down
    }
  }

  /** Sets who is told of each task queued here (one listener; the work-helping waiter). */
  public void onQueued(java.util.function.Consumer<TaskId> listener) {
    this.queuedListener = listener;
  }

  /**
   * Takes task {@code id} back if it is still queued here (not yet sent to any worker) and
   * {@code eligible} accepts it, so its owner can run it itself; null otherwise. Lease requests
   * made for it are cancelled by the usual backlog rule.
   */
  public TaskSpec takeQueued(TaskId id, java.util.function.Predicate<TaskSpec> eligible) {
    for (KeyState ks : keys.values()) {
      TaskSpec taken = null;
      List<Runnable> actions;
      synchronized (ks) {
        for (Iterator<TaskSpec> it = ks.queue.iterator(); it.hasNext(); ) {
          TaskSpec s = it.next();
          if (taskId(s).equals(id)) {
            if (!eligible.test(s) || taskManager.isCancelled(id)) {
              return null;
            }
            it.remove();
            taken = s;
            break;
          }
        }
        if (taken == null) {
          continue;
        }
        actions = planLocked(ks);
      }
      actions.forEach(Runnable::run);
      return taken;
    }
    return null;
  }

  /**
   * The key tasks share leases by: resources and node affinity; streaming generators have keys
   * of their own, as they never share a worker's pipeline.
   */
  static String schedulingKey(Map<String, Double> resources, NodeAffinity affinity,
      boolean generator) {
    String shape = new TreeMap<>(resources) + (generator ? " generator" : "");
    return affinity == null ? shape : shape + "@" + NodeId.fromBytes(affinity.getNodeId()
        .toByteArray()) + (affinity.getSoft() ? "?" : "!");
  }

  private List<Runnable> planLocked(KeyState ks) {
    List<Runnable> actions = new ArrayList<>();
    Map<LeaseEntry, List<PushTaskBatch.Builder>> batches = new LinkedHashMap<>();
    // Each task goes to the least loaded lease, so a burst spreads over every worker before any
    // worker gets a second task queued, and stolen tasks go to the idle worker, not back.
    int maxInFlight = ks.oneTaskPerLease ? 1 : maxTasksInFlightPerWorker;
    while (!ks.queue.isEmpty()) {
      LeaseEntry target = null;
      for (LeaseEntry lease : ks.leases) {
        if (!lease.blocked && lease.inFlight.size() < maxInFlight
            && (target == null || lease.inFlight.size() < target.inFlight.size())) {
          target = lease;
        }
      }
      if (target == null) {
        break;
      }
      TaskSpec spec = ks.queue.poll();
      if (taskManager.isCancelled(taskId(spec))) {
        // Cancelled while on its way back to us (stolen or requeued): it must never run.
        actions.add(() -> taskManager.fail(taskId(spec), TaskManager.cancelledError(spec), false));
        continue;
      }
      target.inFlight.put(taskId(spec), spec);
      List<PushTaskBatch.Builder> forLease =
          batches.computeIfAbsent(target, l -> new ArrayList<>(List.of(PushTaskBatch.newBuilder())));
      PushTaskBatch.Builder batch = forLease.getLast();
      PushTaskRequest push = PushTaskRequest.newBuilder()
          .setSpec(spec)
          .setIntendedWorkerId(target.grant.getWorker().getWorkerId())
          .setLeaseId(target.grant.getLeaseId())
          .build();
      // Several tasks share a message, but never beyond half the transport's message limit.
      if (batch.getTasksCount() > 0
          && batch.build().getSerializedSize() + push.getSerializedSize() > maxBatchBytes) {
        batch = PushTaskBatch.newBuilder();
        forLease.add(batch);
      }
      batch.addTasks(push);
    }
    for (LeaseEntry lease : ks.leases) {
      if (!lease.inFlight.isEmpty()) {
        lease.idleSinceNanos = -1;
      } else if (lease.idleSinceNanos < 0) {
        lease.idleSinceNanos = System.nanoTime();
      }
    }
    LeaseEntry victim = ks.queue.isEmpty() ? stealVictim(ks) : null;
    if (victim != null) {
      victim.stealPending = true;
      batches.computeIfAbsent(victim, l -> new ArrayList<>(List.of(PushTaskBatch.newBuilder())))
          .getLast().setSteal(true);
    }
    batches.forEach((lease, list) -> list.forEach(b -> actions.add(() -> lease.send(b.build()))));
    // Lease requests follow the backlog: one per task that is not running yet (up to a cap),
    // so pipelining onto a few workers never stops the owner from asking for more; requests no
    // longer needed are cancelled.
    int wanted = Math.min(ks.backlog(), MAX_PENDING_LEASE_REQUESTS);
    if (ks.pendingLeaseRequests.size() < wanted && !leaseRequestDelay.isZero()
        && !ks.leaseRequestDue) {
      // A task's children are usually joined at once and then run inline (the work-helping
      // rule): ask for leases only for children still queued a moment later.
      if (!ks.leaseRequestScheduled) {
        ks.leaseRequestScheduled = true;
        actions.add(() -> scheduleLeaseRequests(ks));
      }
      wanted = ks.pendingLeaseRequests.size();
    }
    while (ks.pendingLeaseRequests.size() < wanted) {
      ByteString id = ByteString.copyFromUtf8(UUID.randomUUID().toString());
      ks.pendingLeaseRequests.add(id);
      actions.add(() -> requestLease(ks, id, nodeManagerTarget, 0));
    }
    while (ks.pendingLeaseRequests.size() > wanted) {
      ByteString id = ks.pendingLeaseRequests.removeLast();
      actions.add(() -> cancelLeaseRequest(id));
    }
    return actions;
  }

  /**
   * Work stealing: when a lease of this key is idle while another has tasks waiting behind a
   * running one, the busiest lease's queued tasks are taken back to be spread again. Pipelining
   * keeps throughput high; stealing keeps it from starving a worker that arrived late.
   */
  private static LeaseEntry stealVictim(KeyState ks) {
    boolean someIdle = false;
    LeaseEntry busiest = null;
    for (LeaseEntry l : ks.leases) {
      if (l.inFlight.isEmpty() && !l.blocked) {
        someIdle = true;
      } else if (!l.stealPending && l.inFlight.size() >= 2
          && (busiest == null || l.inFlight.size() > busiest.inFlight.size())) {
        busiest = l;
      }
    }
    return someIdle ? busiest : null;
  }

  private void cancelLeaseRequest(ByteString id) {
    String target = requestTargets.remove(id);
    if (target == null) {
      return;
    }
    NodeManagerServiceGrpc.newStub(channels.get(target)).cancelWorkerLease(
        CancelLeaseRequest.newBuilder().setLeaseRequestId(id).build(),
        Callbacks.ignoreReply("cancelling a lease request"));
  }

  private void requestLease(KeyState ks, ByteString id, String target, int spillbacks) {
    LeaseRequest.Builder req = LeaseRequest.newBuilder()
        .setLeaseRequestId(id)
        .putAllResources(ks.resources)
        .setSchedulingKey(ks.key)
        .setJobId(ks.jobId)
        .setOwner(self)
        .setSpillbackCount(spillbacks);
    synchronized (ks) {
      TaskSpec next = ks.queue.peek();
      req.setDisplayName(next != null ? next.getDisplayName() : ks.key);
    }
    if (ks.affinity != null) {
      req.setNodeAffinity(ks.affinity);
    }
    requestTargets.put(id, target);
    NodeManagerServiceGrpc.newStub(channels.get(target))
        .requestWorkerLease(req.build(), new StreamObserver<>() {
          @Override
          public void onNext(LeaseReply reply) {
            onLeaseReply(ks, id, reply, target, spillbacks);
          }

          @Override
          public void onError(Throwable t) {
            if (!target.equals(nodeManagerTarget) && !closed) {
              // A node the request was sent on to is gone: ask the local node again once the
              // cluster had a moment to notice (it then routes around the dead node).
              log.debug("node manager {} unreachable for a lease request ({}); asking {} again",
                  target, t.toString(), nodeManagerTarget);
              requestLeaseLater(ks, id, 500);
              return;
            }
            onLeaseReply(ks, id, LeaseReply.newBuilder().setRejected(true)
                .setFailureMessage("node manager at " + target + " unreachable: " + t)
                .build(), target, spillbacks);
          }

          @Override
          public void onCompleted() {}
        });
  }

  private void onLeaseReply(KeyState ks, ByteString requestId, LeaseReply reply, String target,
      int spillbacks) {
    if (reply.hasSpillback()) {
      String next = Addresses.target(reply.getSpillback());
      synchronized (ks) {
        if (!ks.pendingLeaseRequests.contains(requestId) || closed) {
          return;
        }
        if (spillbacks < MAX_LEASE_REDIRECTS) {
          requestLease(ks, requestId, next, spillbacks + 1);
          return;
        }
      }
      // Nodes that keep sending a request on to each other will not grant it: wait (and ask
      // the local node again later) or fail, as for a request no node can serve.
      onLeaseReply(ks, requestId, LeaseReply.newBuilder().setRejected(true).setInfeasible(true)
          .setFailureMessage(redirectsExhausted(ks, target, next)).build(), target, spillbacks);
      return;
    }
    List<Runnable> actions;
    List<TaskSpec> failed = List.of();
    synchronized (ks) {
      if (reply.getInfeasible() && waitForFeasibleNode(ks, requestId, reply)) {
        return;
      }
      requestTargets.remove(requestId);
      boolean wanted = ks.pendingLeaseRequests.remove(requestId);
      if (reply.getCancelled()) {
        return;
      }
      if (reply.getRejected()) {
        if (ks.leases.isEmpty() && ks.pendingLeaseRequests.isEmpty()) {
          failed = new ArrayList<>(ks.queue);
          ks.queue.clear();
        }
        actions = List.of();
      } else if (!wanted && ks.backlog() == 0) {
        // Granted after we stopped needing it (the cancel crossed the grant): give it back.
        actions = List.of(() -> returnLease(target, reply.getLeaseId(), false));
      } else {
        ks.infeasibleSinceNanos = -1;
        LeaseEntry lease = new LeaseEntry(reply, target);
        lease.requests = CoreWorkerServiceGrpc.newStub(
            channels.get(Addresses.target(reply.getWorker()))).pushTasks(results(ks, lease));
        ks.leases.add(lease);
        actions = planLocked(ks);
      }
    }
    if (!failed.isEmpty()) {
      log.error("cannot schedule {} task(s) needing {}: {}", failed.size(), ks.key,
          reply.getFailureMessage());
    }
    for (TaskSpec spec : failed) {
      ErrorType type = reply.getInfeasible() ? ErrorType.TASK_UNSCHEDULABLE : ErrorType.NODE_DIED;
      taskManager.fail(taskId(spec), Errors.error(type, "task " + taskId(spec) + " ("
          + spec.getDisplayName() + ") cannot be scheduled: " + reply.getFailureMessage()), false);
    }
    actions.forEach(Runnable::run);
  }

  private static String redirectsExhausted(KeyState ks, String from, String to) {
    return "no node granted a worker for tasks needing " + new TreeMap<>(ks.resources)
        + (ks.affinity == null ? "" : " (" + (ks.affinity.getSoft() ? "preferring" : "pinned to")
            + " node " + NodeId.fromBytes(ks.affinity.getNodeId().toByteArray()) + ")")
        + ": the lease request was sent on " + MAX_LEASE_REDIRECTS + " times between nodes, the"
        + " last time from node manager " + from + " to " + to;
  }

  /**
   * An infeasible reply: with a timeout, warns once and asks again every second (a node with the
   * resources may join) until the key has been infeasible for {@code unschedulableTimeout}.
   * Returns false when the tasks should fail now. Called under the key's monitor.
   */
  private boolean waitForFeasibleNode(KeyState ks, ByteString requestId, LeaseReply reply) {
    if (unschedulableTimeout.isZero() || closed) {
      return false;
    }
    long now = System.nanoTime();
    if (ks.infeasibleSinceNanos < 0) {
      ks.infeasibleSinceNanos = now;
      log.warn("{} task(s) needing {} cannot be scheduled now: {}; waiting up to {} s for a node"
          + " that can serve them", ks.queue.size() + ks.leases.size(), ks.key,
          reply.getFailureMessage(), unschedulableTimeout.toSeconds());
    } else if (now - ks.infeasibleSinceNanos >= unschedulableTimeout.toNanos()) {
      return false;
    }
    requestLeaseLater(ks, requestId, 1000);
    return true;
  }

  /** Sends lease request {@code id} to the local node again after {@code millis}, if still wanted. */
  private void requestLeaseLater(KeyState ks, ByteString id, long millis) {
    try {
      timers.schedule(() -> {
        synchronized (ks) {
          if (!ks.pendingLeaseRequests.contains(id) || closed) {
            return;
          }
        }
        requestLease(ks, id, nodeManagerTarget, 0);
      }, millis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down
    }
  }

  /** Handles the replies a lease's worker streams back. Runs on a transport thread. */
  private StreamObserver<TaskResultBatch> results(KeyState ks, LeaseEntry lease) {
    return new StreamObserver<>() {
      @Override
      public void onNext(TaskResultBatch batch) {
        for (ReportGeneratorItemReturns report : batch.getReportsList()) {
          long reportId = report.getReportId();
          taskManager.handleReport(report, (consumed, notFound) -> lease.sendQuietly(
              PushTaskBatch.newBuilder().addReportReplies(ReportGeneratorItemReturnsReply
                  .newBuilder().setReportId(reportId).setTotalNumObjectConsumed(consumed)
                  .setNotFound(notFound)).build()));
        }
        List<TaskResult> finished = new ArrayList<>(batch.getResultsCount());
        List<Runnable> actions;
        List<TaskId> requeuedIds;
        synchronized (ks) {
          List<TaskSpec> requeued = new ArrayList<>();
          for (TaskResult r : batch.getResultsList()) {
            TaskSpec spec = lease.inFlight.remove(TaskId.fromBytes(r.getTaskId().toByteArray()));
            if (spec == null) {
              continue;
            }
            if (r.getReply().getRequeue()) {
              lease.blocked |= !r.getReply().getStolen();
              requeued.add(spec);
            } else {
              lease.blocked = false;
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
          for (int i = requeued.size() - 1; i >= 0; i--) {
            ks.queue.addFirst(requeued.get(i));
          }
          actions = planLocked(ks);
          requeuedIds = requeued.stream().map(NormalTaskSubmitter::taskId).toList();
        }
        requeuedIds.forEach(queuedListener);
        for (TaskResult r : finished) {
          taskManager.complete(TaskId.fromBytes(r.getTaskId().toByteArray()), r.getReply());
        }
        actions.forEach(Runnable::run);
      }

      @Override
      public void onError(Throwable t) {
        onWorkerFailed(ks, lease, t, null);
      }

      @Override
      public void onCompleted() {
        onWorkerFailed(ks, lease, new IllegalStateException("worker closed its task stream"),
            null);
      }
    };
  }

  /**
   * A lease's worker failed. {@code nodeKnownDead} is true when the caller already knows the
   * worker's node died, or null to find out by probing the node's manager.
   */
  private void onWorkerFailed(KeyState ks, LeaseEntry lease, Throwable t, Boolean nodeKnownDead) {
    if (closed) {
      return;
    }
    LostTasks lost;
    List<Runnable> actions;
    synchronized (ks) {
      if (!ks.leases.remove(lease) || lease.dead) {
        return;
      }
      lease.dead = true;
      lost = LostTasks.of(lease.inFlight.values(), lease.started);
      lease.inFlight.clear();
      actions = planLocked(ks);
    }
    String worker = lease.describeWorker();
    if (!lost.isEmpty()) {
      log.warn("{} failed with {} task(s) in flight ({} had not started and are queued again"
          + " without spending a retry): {}", worker, lost.size(), lost.neverStarted().size(),
          t.toString(), t.getCause());
    }
    channels.evict(Addresses.target(lease.grant.getWorker()));
    actions.forEach(Runnable::run);
    if (lost.isEmpty()) {
      returnLease(lease, true);
      return;
    }
    // Whether the worker's node died too decides the error: probe its node manager off the
    // transport thread (a dead node refuses or times out).
    Thread.ofVirtual().name("sluice-worker-failure").start(() -> {
      boolean nodeDied = nodeKnownDead != null ? nodeKnownDead
          : !nodeManagerReachable.test(lease.grantedBy);
      if (!nodeDied) {
        returnLease(lease, true);
      } else if (nodeKnownDead == null) {
        // Every other lease on that node is as good as dead: fail them first, so the retries
        // below are not pipelined onto a worker that is about to go.
        failLeasesOn(lease.grant.getWorker().getNodeId(), "its node manager "
            + lease.grantedBy + " does not answer");
      }
      requeueNeverStarted(ks, lost.neverStarted());
      for (TaskSpec spec : lost.ran()) {
        TaskId id = taskId(spec);
        String what = "task " + id + " (" + spec.getDisplayName() + ", attempt "
            + spec.getAttemptNumber() + ") failed: ";
        taskManager.fail(id, nodeDied
            ? Errors.error(ErrorType.NODE_DIED, what + "node " + Addresses.nodeId(
                lease.grant.getWorker()) + " (node manager " + lease.grantedBy + ") died while "
                + worker + " ran it (" + t.getMessage() + ")")
            : Errors.error(ErrorType.WORKER_DIED, what + worker
                + " died or became unreachable while running it (" + t.getMessage() + ")"),
            true);
      }
    });
  }

  /** Puts tasks that were lost with a worker before they started back at the queue's head. */
  private void requeueNeverStarted(KeyState ks, List<TaskSpec> specs) {
    if (specs.isEmpty()) {
      return;
    }
    List<Runnable> actions;
    synchronized (ks) {
      if (closed) {
        return;
      }
      for (int i = specs.size() - 1; i >= 0; i--) {
        ks.queue.addFirst(specs.get(i));
      }
      actions = planLocked(ks);
    }
    actions.forEach(Runnable::run);
  }

  /**
   * Fails every lease on node {@code nodeId} as if its worker had died: the control service
   * declared the node dead, which may come before (or instead of) the connections breaking.
   */
  public void onNodeDied(ByteString nodeId) {
    failLeasesOn(nodeId, "it was declared dead by the control service");
  }

  /** Fails every lease on node {@code nodeId}, which died because {@code why}. */
  private void failLeasesOn(ByteString nodeId, String why) {
    for (KeyState ks : keys.values()) {
      List<LeaseEntry> onNode = new ArrayList<>();
      synchronized (ks) {
        for (LeaseEntry l : ks.leases) {
          if (l.grant.getWorker().getNodeId().equals(nodeId)) {
            onNode.add(l);
          }
        }
      }
      for (LeaseEntry l : onNode) {
        onWorkerFailed(ks, l, new IllegalStateException("node " + NodeId.fromBytes(
            nodeId.toByteArray()) + " died: " + why), true);
      }
    }
  }

  /**
   * Returns leases that have had nothing to do for {@code leaseIdleTimeout}. Runs periodically on
   * the timer thread; a sweep instead of a timer per lease keeps the task path free of timer
   * scheduling.
   */
  private void returnIdleLeases() {
    long now = System.nanoTime();
    for (KeyState ks : keys.values()) {
      List<LeaseEntry> idle = new ArrayList<>();
      synchronized (ks) {
        if (!ks.queue.isEmpty()) {
          continue;
        }
        for (Iterator<LeaseEntry> it = ks.leases.iterator(); it.hasNext(); ) {
          LeaseEntry lease = it.next();
          if (lease.inFlight.isEmpty() && lease.idleSinceNanos >= 0
              && now - lease.idleSinceNanos >= leaseIdleTimeout.toNanos()) {
            it.remove();
            lease.dead = true;
            idle.add(lease);
          }
        }
      }
      for (LeaseEntry lease : idle) {
        closeStream(lease);
        returnLease(lease, false);
      }
    }
  }

  private static void closeStream(LeaseEntry lease) {
    try {
      synchronized (lease) {
        lease.requests.onCompleted();
      }
    } catch (RuntimeException e) {
      log.debug("closing a task stream failed: {}", e.toString());
    }
  }

  private void returnLease(LeaseEntry lease, boolean disconnect) {
    returnLease(lease.grantedBy, lease.grant.getLeaseId(), disconnect);
  }

  private void returnLease(String grantedBy, ByteString leaseId, boolean disconnect) {
    io.grpc.ManagedChannel channel;
    try {
      channel = channels.get(grantedBy);
    } catch (IllegalStateException e) {
      return;
    }
    NodeManagerServiceGrpc.newStub(channel).returnWorker(
        ReturnWorkerRequest.newBuilder().setLeaseId(leaseId)
            .setDisconnectWorker(disconnect).build(),
        Callbacks.ignoreReply("returning a lease"));
  }

  /**
   * Cancels a task of this owner: a queued one fails at once with {@code TASK_CANCELLED}; a
   * running one is asked to stop on its worker. The caller has already marked it cancelled.
   * Returns true if the task is in flight on a worker (it may not stop: see {@link
   * #killWorkerRunning}).
   */
  public boolean cancel(TaskId id) {
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
          runningOn = leaseRunningLocked(ks, id);
        }
      }
      if (removed != null) {
        taskManager.fail(id, TaskManager.cancelledError(removed), false);
        return false;
      }
      if (runningOn != null) {
        // In-band, after the push on the same stream, so the worker always knows the task.
        runningOn.sendQuietly(PushTaskBatch.newBuilder()
            .addCancelTaskIds(ByteString.copyFrom(id.toBytes())).build());
        return true;
      }
    }
    return false;
  }

  private static LeaseEntry leaseRunningLocked(KeyState ks, TaskId id) {
    for (LeaseEntry l : ks.leases) {
      if (l.inFlight.containsKey(id)) {
        return l;
      }
    }
    return null;
  }

  /**
   * Has the worker running cancelled task {@code id} killed by the node manager that granted its
   * lease, which takes the lease's resources back. The cancelled tasks on the lease fail with
   * {@code TASK_CANCELLED} (saying {@code why}) once the node manager answered; the others are
   * queued again without using a retry: a worker runs its tasks in order, so they had not
   * started (or, at worst, finished with their reply still on its way: they then run again).
   * Returns false if the task is not in flight any more.
   */
  public boolean killWorkerRunning(TaskId id, String why) {
    for (KeyState ks : keys.values()) {
      LeaseEntry lease;
      List<TaskSpec> cancelled = new ArrayList<>();
      List<Runnable> actions;
      synchronized (ks) {
        lease = leaseRunningLocked(ks, id);
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
        again.reversed().forEach(ks.queue::addFirst);
        actions = planLocked(ks);
      }
      String worker = lease.describeWorker();
      log.warn("killing {}: task {} was cancelled and {}", worker, id, why);
      CompletableFuture<ReturnWorkerReply> killed = new CompletableFuture<>();
      try {
        NodeManagerServiceGrpc.newStub(channels.get(lease.grantedBy)).returnWorker(
            ReturnWorkerRequest.newBuilder().setLeaseId(lease.grant.getLeaseId())
                .setDisconnectWorker(true).setKillReason("task " + id + " was cancelled and "
                    + why).build(), Callbacks.into(killed));
      } catch (IllegalStateException e) {
        killed.completeExceptionally(e);  // shutting down
      }
      killed.whenComplete((r, e) -> {
        if (e != null) {
          log.warn("node manager {} did not confirm killing {}: {}", lease.grantedBy, worker,
              e.toString());
        }
        channels.evict(Addresses.target(lease.grant.getWorker()));
        for (TaskSpec s : cancelled) {
          taskManager.fail(taskId(s), Errors.error(ErrorType.TASK_CANCELLED, "task " + taskId(s)
              + " (" + s.getDisplayName() + ") was cancelled and " + why + ": " + worker
              + " was killed"), false);
        }
      });
      actions.forEach(Runnable::run);
      return true;
    }
    return false;
  }

  /** Returns every held lease and ignores later failures; called at shutdown. */
  public void close() {
    closed = true;
    for (KeyState ks : keys.values()) {
      List<LeaseEntry> held;
      synchronized (ks) {
        held = new ArrayList<>(ks.leases);
        ks.leases.clear();
        held.forEach(l -> l.dead = true);
      }
      held.forEach(l -> {
        closeStream(l);
        returnLease(l, false);
      });
    }
  }

  private static TaskId taskId(TaskSpec spec) {
    return TaskId.fromBytes(spec.getTaskId().toByteArray());
  }
}
