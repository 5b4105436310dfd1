package dev.sluice.runtime.core;

import dev.sluice.TaskId;
import dev.sluice.runtime.executor.TaskReceiver;
import dev.sluice.runtime.owner.NormalTaskSubmitter;
import dev.sluice.runtime.owner.TaskManager;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The work-helping rule (DESIGN "Nested tasks"): a task blocked in {@code get} on the result of a
 * child it submitted, while that child is still queued in this process's submitter (no worker has
 * it yet), runs the child itself on the blocked thread, as a fork/join pool's {@code join} runs the
 * task it waits for. A recursive program then runs mostly inside the workers it already has instead
 * of waiting seconds per level for new worker JVMs, and cannot deadlock for want of one.
 *
 * <p>Only children that could run on this worker's CPU anyway run inline: CPU-only resources, no
 * node affinity (a soft one naming this node is allowed), not a streaming generator. The child
 * keeps every rule of a pushed task: its own task id and attempt number in {@code
 * runtimeContext()}, retries and lineage through the task manager (its reply is handed to the task
 * manager as a worker's would be), and cancellation (which interrupts the blocked thread only for
 * the child's run).
 *
 * <p>Threads: called by task threads of a worker. {@link #whenQueued} futures complete on the
 * thread that queued the task (a transport or submitting thread).
 */
final class JoinHelper {
  /** How long a worker's children wait in its queue before it asks for leases for them. */
  static final java.time.Duration LEASE_REQUEST_DELAY = java.time.Duration.ofMillis(2);

  private final NormalTaskSubmitter submitter;
  private final TaskReceiver receiver;
  private final TaskManager taskManager;
  private final com.google.protobuf.ByteString nodeId;
  private final ConcurrentHashMap<TaskId, CompletableFuture<Void>> watched =
      new ConcurrentHashMap<>();

  JoinHelper(
      NormalTaskSubmitter submitter,
      TaskReceiver receiver,
      TaskManager taskManager,
      com.google.protobuf.ByteString nodeId) {
    this.submitter = submitter;
    this.receiver = receiver;
    this.taskManager = taskManager;
    this.nodeId = nodeId;
    submitter.onQueued(
        id -> {
          CompletableFuture<Void> f = watched.get(id);
          if (f != null) {
            f.complete(null);
          }
        });
  }

  /**
   * Runs task {@code id} on the calling thread if it is still queued here and may run inline;
   * returns whether it ran (its result is then known to the task manager).
   */
  boolean tryRun(TaskId id) {
    TaskSpec spec = submitter.takeQueued(id, this::mayRunInline);
    if (spec == null) {
      return false;
    }
    PushTaskReply reply = receiver.runInline(spec);
    taskManager.complete(id, reply);
    return true;
  }

  /**
   * A future completed when task {@code id} is next put in (or back in) this process's queue, e.g.
   * sent back by a worker whose own task blocked. Call {@link #unwatch} when done waiting.
   */
  CompletableFuture<Void> whenQueued(TaskId id) {
    return watched.computeIfAbsent(id, k -> new CompletableFuture<>());
  }

  void unwatch(TaskId id) {
    watched.remove(id);
  }

  /** The eligibility rule: what a child needs must be what its blocked parent already holds. */
  boolean mayRunInline(TaskSpec spec) {
    if (spec.getStreamingGenerator()) {
      return false;
    }
    for (String resource : spec.getResourcesMap().keySet()) {
      if (!"CPU".equals(resource) && spec.getResourcesMap().get(resource) > 0) {
        return false;
      }
    }
    return !spec.hasNodeAffinity()
        || (spec.getNodeAffinity().getSoft() && spec.getNodeAffinity().getNodeId().equals(nodeId));
  }
}
