package dev.sluice.runtime.owner;

import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.generator.GeneratorRetries;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lineage reconstruction for {@link TaskManager} (DESIGN "Failures"): a finished task whose outputs
 * went to shared memory stays in {@link Lineage}; when an output is lost (its node died), {@link
 * #reconstruct} runs the task again as a new attempt, within the retries it has left, and the
 * rebuilt value replaces the lost one under the same id. Calls for one object share one rebuild. A
 * task that is still running is not run twice: the rebuild waits until its current attempt ends
 * ({@link #afterFinal}), and is dropped if that attempt re-reported the lost item. A value reported
 * again for an object already held replaces it only if the held copy is lost; otherwise the extra
 * copy is deleted ({@link #takeRebuilt}).
 *
 * <p>Threads: any. The lineage, the waiting rebuilds and the decision to start a rebuild are
 * guarded by one lock, under which {@link Tasks#addRebuild} runs; resubmission and the completion
 * of waiting futures happen after it is released.
 */
final class LineageReconstruction {
  private static final Logger log = LoggerFactory.getLogger(LineageReconstruction.class);

  /** What reconstruction needs of the task records. */
  interface Tasks {
    /** True while {@code task} has an attempt that has not reached its final outcome. */
    boolean isRunning(TaskId task);

    /**
     * Records {@code spec} as a pending run that rebuilds lost outputs, with {@code retriesLeft},
     * and moves the task's stream (if any) to its attempt. Called under this class's lock.
     */
    void addRebuild(TaskSpec spec, int retriesLeft);

    /** Submits {@code spec}. Called outside the lock. */
    void resubmit(TaskSpec spec);
  }

  private final Lineage lineage;
  private final Object lock = new Object();

  /** Lost objects waiting for a rebuilt value, by id. */
  private final ConcurrentHashMap<ObjectId, CompletableFuture<ObjectValue>> rebuilding =
      new ConcurrentHashMap<>();

  private final MemoryStore store;
  private final Predicate<ObjectId> isReferenced;
  private final Predicate<SharedMemoryLocation> isLost;
  private final BiConsumer<ObjectId, SharedMemoryLocation> deleteCopyAt;
  private final Tasks tasks;

  /**
   * Reconstruction replacing values in {@code store}; {@code isReferenced} tells whether the
   * process still holds an object, {@code isLost} whether a shared-memory copy is gone, {@code
   * deleteCopyAt} deletes the copy at one location only. {@code lineage} keeps finished tasks.
   */
  LineageReconstruction(
      Lineage lineage,
      MemoryStore store,
      Predicate<ObjectId> isReferenced,
      Predicate<SharedMemoryLocation> isLost,
      BiConsumer<ObjectId, SharedMemoryLocation> deleteCopyAt,
      Tasks tasks) {
    this.lineage = lineage;
    this.store = store;
    this.isReferenced = isReferenced;
    this.isLost = isLost;
    this.deleteCopyAt = deleteCopyAt;
    this.tasks = tasks;
  }

  /**
   * A value a later attempt produced for {@code id} again: it completes a rebuild waiting for it,
   * or replaces a held value whose copy is lost; an extra copy of a value held and not lost is
   * deleted where it was written.
   */
  void takeRebuilt(ObjectId id, ObjectValue value) {
    CompletableFuture<ObjectValue> waiting = rebuilding.remove(id);
    if (waiting != null) {
      store.replace(id, value);
      waiting.complete(value);
      log.info("object {} rebuilt by a new attempt of its task", id);
      return;
    }
    if (!value.hasShared() || !isReferenced.test(id)) {
      return;
    }
    CompletableFuture<ObjectValue> held = store.find(id);
    if (held == null || !held.isDone() || !held.join().hasShared()) {
      return;
    }
    SharedMemoryLocation old = held.join().getShared();
    if (old.getNodeId().equals(value.getShared().getNodeId())) {
      return;
    }
    if (isLost.test(old)) {
      store.replace(id, value);
    } else {
      deleteCopyAt.accept(id, value.getShared());
    }
  }

  /**
   * Starts rebuilding the lost object {@code id} and returns the future of its new value, or null
   * if it cannot be rebuilt (a {@code put} object, lineage evicted, or no retries left). Calls for
   * one object share one rebuild.
   */
  CompletableFuture<ObjectValue> reconstruct(ObjectId id) {
    if (id.isPut()) {
      return null;
    }
    TaskId task = id.taskId();
    TaskSpec toRun;
    CompletableFuture<ObjectValue> f;
    synchronized (lock) {
      f = rebuilding.get(id);
      if (f != null) {
        return f;
      }
      boolean running = tasks.isRunning(task);
      Lineage.Entry entry = running ? null : lineage.get(task);
      if (!running
          && (entry == null
              || entry.rebuildsLeft() <= 0
              || id.index() > maxOutputIndex(entry.spec()))) {
        return null;
      }
      f = new CompletableFuture<>();
      rebuilding.put(id, f);
      if (running) {
        log.info(
            "object {} is lost; its task {} is still running, so it is rebuilt when the "
                + "current attempt ends",
            id,
            task);
        return f;
      }
      toRun = startRebuildLocked(task, entry);
    }
    tasks.resubmit(toRun);
    return f;
  }

  /**
   * After task {@code id}'s final outcome ({@code failure} null on success): a successful task is
   * kept in lineage with {@code retriesLeft} rebuilds, and the rebuilds that waited for it to end
   * run now, or fail with {@code failure} (or "lost") when none can.
   */
  void afterFinal(TaskId id, TaskSpec spec, int retriesLeft, ErrorInfo failure) {
    boolean sharedOutputs = failure == null;
    TaskSpec toRun = null;
    List<CompletableFuture<ObjectValue>> failed = new ArrayList<>();
    synchronized (lock) {
      // An actor call is not rebuilt by running it again: the actor's state has moved on (DESIGN
      // "Actors"); its lost outputs are lost.
      if (sharedOutputs && !spec.hasActorCall()) {
        lineage.put(id, spec, retriesLeft);
      }
      boolean waiting = rebuilding.keySet().stream().anyMatch(o -> o.taskId().equals(id));
      if (!waiting) {
        return;
      }
      Lineage.Entry entry = lineage.get(id);
      if (failure == null && entry != null && entry.rebuildsLeft() > 0) {
        toRun = startRebuildLocked(id, entry);
      } else {
        rebuilding
            .entrySet()
            .removeIf(
                e -> {
                  if (e.getKey().taskId().equals(id)) {
                    failed.add(e.getValue());
                    return true;
                  }
                  return false;
                });
      }
    }
    if (toRun != null) {
      tasks.resubmit(toRun);
    }
    ObjectValue lost =
        Errors.value(
            failure != null
                ? failure
                : Errors.error(
                    ErrorType.OBJECT_LOST,
                    "an output of task "
                        + id
                        + " ("
                        + spec.getDisplayName()
                        + ") was lost and cannot be "
                        + "rebuilt: no retries left"));
    failed.forEach(f -> f.complete(lost));
  }

  private static long maxOutputIndex(TaskSpec spec) {
    return spec.getStreamingGenerator() ? Long.MAX_VALUE : spec.getNumReturns();
  }

  private TaskSpec startRebuildLocked(TaskId task, Lineage.Entry entry) {
    int retriesLeft = entry.rebuildsLeft() - 1;
    TaskSpec spec =
        GeneratorRetries.withBudget(
                entry.spec().toBuilder().setAttemptNumber(entry.spec().getAttemptNumber() + 1),
                retriesLeft)
            .build();
    lineage.put(task, spec, retriesLeft);
    tasks.addRebuild(spec, retriesLeft);
    log.warn(
        "rebuilding lost output(s) of task {} ({}) as attempt {}",
        task,
        spec.getDisplayName(),
        spec.getAttemptNumber());
    return spec;
  }
}
