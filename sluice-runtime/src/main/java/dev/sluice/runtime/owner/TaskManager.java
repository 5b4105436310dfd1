package dev.sluice.runtime.owner;

import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.generator.GeneratorIds;
import dev.sluice.runtime.generator.GeneratorRetries;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturns;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturnsReply;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.SharedCreditSlot;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.state.TaskEvents;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner's record of the tasks it submitted and has not seen finish: their specs, retries left
 * and cancellation. It turns a task's outcome into its return objects: values from the final reply,
 * or the error once no retry remains. Retries resubmit the same spec with the attempt number
 * incremented.
 *
 * <p>For a streaming generator it also holds the caller-side {@link ObjectRefStream}, keyed by the
 * generator ref's id, from before submission until the consumer deletes it; reports for a deleted
 * stream are answered "not found".
 *
 * <p>Refs among a task's arguments are counted as submitted from {@link #add} until the task's
 * final outcome (retries keep them).
 *
 * <p>Lineage reconstruction (DESIGN "Failures") is {@link LineageReconstruction}: this class tells
 * it of every final outcome and every value reported again, and records the runs it starts to
 * rebuild lost outputs as pending tasks; deterministic ids make the rebuilt outputs land under the
 * same ids.
 *
 * <p>Thread-safe: outcomes arrive on transport threads; each task's entry is removed exactly once,
 * by whichever outcome is final. Reconstruction bookkeeping is guarded by the reconstruction's
 * lock, under which it adds rebuild runs here.
 */
public final class TaskManager {
  private static final Logger log = LoggerFactory.getLogger(TaskManager.class);

  private final ConcurrentHashMap<TaskId, PendingTask> pending = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<ObjectId, ObjectRefStream> streams = new ConcurrentHashMap<>();
  private final MemoryStore store;
  private final ReferenceCounter refs;
  private volatile Consumer<TaskSpec> resubmitter;
  private final LineageReconstruction rebuilds;
  private final BiConsumer<ObjectId, SharedMemoryLocation> prefetch;
  private volatile TaskEvents events = TaskEvents.disabled();
  private volatile SharedCreditSlots sharedCredit;

  /** Set by the first {@link #markCancelled} and never cleared. */
  private volatile boolean anyCancelled;

  private final TaskCounters counters;

  /** A submitted task that has not finished. */
  static final class PendingTask {
    volatile TaskSpec spec;
    volatile int retriesLeft;
    volatile boolean cancelled;

    /** A run to rebuild lost outputs: its returns replace lost values, it stores no failure. */
    volatile boolean rebuild;

    final List<ReferenceCounter.Nested> argRefs;

    PendingTask(TaskSpec spec, List<ReferenceCounter.Nested> argRefs) {
      this.spec = spec;
      this.argRefs = argRefs;
      this.retriesLeft = spec.getMaxRetries();
    }
  }

  /**
   * A task manager storing outcomes into {@code store}, counting references in {@code refs}. {@code
   * isLost} tells whether a shared-memory copy is gone (its node died); {@code deleteCopyAt}
   * deletes the copy of an object at one location only; {@code prefetch} starts bringing a streamed
   * item in another node's store to this one as soon as it is reported, so the transfer overlaps
   * the consumer's work on earlier items. Outcomes and streams are counted in {@code metrics}.
   */
  public TaskManager(
      MemoryStore store,
      ReferenceCounter refs,
      Predicate<SharedMemoryLocation> isLost,
      BiConsumer<ObjectId, SharedMemoryLocation> deleteCopyAt,
      BiConsumer<ObjectId, SharedMemoryLocation> prefetch,
      SluiceMetrics metrics) {
    this.prefetch = prefetch;
    this.counters = new TaskCounters(metrics);
    metrics.addStreamsOpen(streams::size);
    this.store = store;
    this.refs = refs;
    this.rebuilds =
        new LineageReconstruction(
            new Lineage(64L << 20),
            store,
            refs::isReferenced,
            isLost,
            deleteCopyAt,
            new LineageReconstruction.Tasks() {
              @Override
              public boolean isRunning(TaskId task) {
                return pending.get(task) != null;
              }

              @Override
              public void addRebuild(TaskSpec spec, int retriesLeft) {
                TaskManager.this.addRebuild(spec, retriesLeft);
              }

              @Override
              public void resubmit(TaskSpec spec) {
                resubmitter.accept(spec);
              }
            });
  }

  /** Where task state changes are recorded (the state API). Set once during start-up. */
  public void setTaskEvents(TaskEvents events) {
    this.events = events;
  }

  /** The slots this process's streams publish their credit in (DESIGN "Shared credit"). */
  public void setSharedCredit(SharedCreditSlots slots) {
    this.sharedCredit = slots;
  }

  /** The task event recorder of this process (a no-op one while observability is off). */
  public TaskEvents events() {
    return events;
  }

  /** Where retries are sent: the submitter. Set once during start-up. */
  public void setResubmitter(Consumer<TaskSpec> resubmitter) {
    this.resubmitter = resubmitter;
  }

  /**
   * Records a task before it is submitted and declares its return objects; {@code argRefs} (the
   * refs its arguments hold) stay referenced until its final outcome. {@code firstReturn} is the id
   * of its first return object, as its ref holds it.
   */
  public void add(TaskSpec spec, List<ReferenceCounter.Nested> argRefs, ObjectId firstReturn) {
    TaskId id = firstReturn.taskId();
    for (int i = 1; i <= spec.getNumReturns(); i++) {
      // The first return's id is the instance its ref holds: the store and the reference table
      // share one key object per task.
      store.expect(i == 1 ? firstReturn : ObjectId.of(id, i));
    }
    refs.addSubmitted(argRefs);
    pending.put(id, new PendingTask(spec, argRefs));
    events.submitted(spec);
    counters.submitted.increment();
  }

  /**
   * Records a streaming generator task and creates its caller-side stream and the consumer's
   * generator, before the task is submitted, so reports can never arrive for a stream that does not
   * exist yet, and the generator's own ref ({@code completed()}) is referenced before the task can
   * finish: a final reply that arrived before the ref existed would find the object unreferenced
   * and drop its outcome, and reading it later would rebuild it by running the task again. The
   * generator reports its blocking waits to {@code blocking}.
   */
  public <T> ObjectRefGeneratorImpl<T> addStreamingTask(
      TaskSpec spec,
      Address owner,
      List<ReferenceCounter.Nested> argRefs,
      Consumer<Boolean> blocking) {
    ObjectId generatorId =
        GeneratorIds.generatorId(TaskId.fromBytes(spec.getTaskId().toByteArray()));
    ObjectRefStream stream =
        new ObjectRefStream(
            generatorId,
            owner,
            (int) spec.getGeneratorBackpressureNumObjects(),
            refs,
            () -> streams.remove(generatorId),
            counters.consumed);
    ObjectRefGeneratorImpl<T> generator =
        new ObjectRefGeneratorImpl<>(stream, stream.generatorRef(), blocking);
    streams.put(generatorId, stream);
    add(spec, argRefs, generatorId); // the generator ref is ObjectId(T, 1), its first return
    events.trackStream(generatorId, spec, (int) spec.getGeneratorBackpressureNumObjects(), stream);
    return generator;
  }

  /**
   * Handles the generator reports of one batch from a task stream (a lease's or an actor's); each
   * reply goes back in band through {@code sendInBand}, when backpressure allows.
   */
  public void handleReports(
      List<ReportGeneratorItemReturns> reports, Consumer<PushTaskBatch> sendInBand) {
    for (ReportGeneratorItemReturns report : reports) {
      long reportId = report.getReportId();
      SharedCreditSlot offer = sharedCreditOffer(report);
      handleReport(
          report,
          (consumed, notFound) -> {
            ReportGeneratorItemReturnsReply.Builder reply =
                ReportGeneratorItemReturnsReply.newBuilder()
                    .setReportId(reportId)
                    .setTotalNumObjectConsumed(consumed)
                    .setNotFound(notFound);
            if (offer != null && !notFound) {
              reply.setSharedCredit(offer);
            }
            sendInBand.accept(PushTaskBatch.newBuilder().addReportReplies(reply).build());
          });
    }
  }

  /**
   * The stream's shared-credit slot for the reply to {@code report} (DESIGN "Shared credit"): only
   * for a report starting at index 0 (each attempt's first) from a producer of this node.
   */
  private SharedCreditSlot sharedCreditOffer(ReportGeneratorItemReturns report) {
    SharedCreditSlots slots = sharedCredit;
    if (report.getItemIndex() != 0 || slots == null) {
      return null;
    }
    ObjectRefStream stream = streams.get(ObjectId.fromBytes(report.getGeneratorId().toByteArray()));
    return stream == null ? null : stream.sharedCredit(slots, report.getWorkerAddr());
  }

  /**
   * Handles a {@code ReportGeneratorItemReturns}: inserts the items into their stream, or answers
   * "not found" when the stream was deleted.
   */
  public void handleReport(ReportGeneratorItemReturns report, ObjectRefStream.ReportReply reply) {
    if (report.getAttemptNumber() > 0) {
      TaskId task = ObjectId.fromBytes(report.getGeneratorId().toByteArray()).taskId();
      for (int i = 0; i < report.getReturnedObjectsCount(); i++) {
        ReturnObject item = report.getReturnedObjects(i);
        rebuilds.takeRebuilt(GeneratorIds.itemId(task, report.getItemIndex() + i), item.getValue());
      }
    }
    ObjectRefStream stream = streams.get(ObjectId.fromBytes(report.getGeneratorId().toByteArray()));
    if (stream == null) {
      TaskId task = ObjectId.fromBytes(report.getGeneratorId().toByteArray()).taskId();
      for (int i = 0; i < report.getReturnedObjectsCount(); i++) {
        ReturnObject item = report.getReturnedObjects(i);
        // Items carry no id on the wire: item k is ObjectId(T, 2 + k).
        drop(GeneratorIds.itemId(task, report.getItemIndex() + i), item);
      }
      reply.send(0, true);
      return;
    }
    TaskId generatorTask = stream.generatorId().taskId();
    for (int i = 0; i < report.getReturnedObjectsCount(); i++) {
      ObjectValue v = report.getReturnedObjects(i).getValue();
      if (v.hasShared()) {
        prefetch.accept(
            GeneratorIds.itemId(generatorTask, report.getItemIndex() + i), v.getShared());
      }
    }
    stream.report(
        report.getAttemptNumber(), report.getItemIndex(), report.getReturnedObjectsList(), reply);
  }

  /**
   * Starts rebuilding the lost object {@code id} and returns the future of its new value, or null
   * if it cannot be rebuilt (a {@code put} object, lineage evicted, or no retries left). Calls for
   * one object share one rebuild.
   */
  public CompletableFuture<ObjectValue> reconstruct(ObjectId id) {
    return rebuilds.reconstruct(id);
  }

  /** Records a run that rebuilds lost outputs; called under the reconstruction's lock. */
  private void addRebuild(TaskSpec spec, int retriesLeft) {
    TaskId task = TaskId.fromBytes(spec.getTaskId().toByteArray());
    PendingTask p = new PendingTask(spec, List.of());
    p.retriesLeft = retriesLeft;
    p.rebuild = true;
    pending.put(task, p);
    ObjectRefStream stream = streams.get(GeneratorIds.generatorId(task));
    if (stream != null) {
      stream.setAttempt(spec.getAttemptNumber());
    }
  }

  /** Number of live caller-side streams. */
  public int numStreams() {
    return streams.size();
  }

  /** True while the task has not finished. */
  public boolean isPending(TaskId id) {
    return pending.containsKey(id);
  }

  /** True if the task was cancelled (it then finishes with {@code TASK_CANCELLED}). */
  public boolean isCancelled(TaskId id) {
    if (!anyCancelled) {
      // Asked for every task as it is queued and pushed: no lookup until a cancel ever came.
      return false;
    }
    PendingTask p = pending.get(id);
    return p != null && p.cancelled;
  }

  /** Marks a task cancelled; returns false if it already finished. */
  public boolean markCancelled(TaskId id) {
    PendingTask p = pending.get(id);
    if (p == null) {
      return false;
    }
    anyCancelled = true;
    p.cancelled = true;
    return true;
  }

  /** Number of unfinished tasks. */
  public int numPending() {
    return pending.size();
  }

  /**
   * Handles a task's final reply from its worker: stores the returned values, or retries an
   * application failure when the task allows it.
   */
  public void complete(TaskId id, PushTaskReply reply) {
    PendingTask p = pending.get(id);
    if (p == null) {
      reply.getReturnsList().forEach(this::dropNested);
      return;
    }
    if (p.cancelled) {
      reply.getReturnsList().forEach(this::dropNested);
      fail(id, cancelledError(p.spec), false);
      return;
    }
    if (reply.getIsApplicationError() && p.spec.getRetryExceptions() && p.retriesLeft > 0) {
      ErrorInfo e =
          reply.getReturnsCount() > 0 && reply.getReturns(0).getValue().hasError()
              ? reply.getReturns(0).getValue().getError()
              : Errors.error(ErrorType.TASK_EXECUTION_EXCEPTION, "application error");
      if (retry(p, e)) {
        return;
      }
    }
    if (reply.getIsApplicationError() && p.spec.getStreamingGenerator()) {
      // The executor meant this error to be retried, but no retry is left: the task failed.
      fail(id, reply.getReturns(0).getValue().getError(), false);
      return;
    }
    if (pending.remove(id, p)) {
      if (!p.rebuild && reply.getIsApplicationError()) {
        events.failed(p.spec, applicationError(reply));
      } else if (!p.rebuild) {
        events.finished(p.spec);
      }
      counters.finished(p.rebuild, reply.getIsApplicationError());
      if (p.spec.getStreamingGenerator()) {
        ObjectRefStream stream = streams.get(GeneratorIds.generatorId(id));
        if (stream != null) {
          stream.markEnd(reply.getNumStreamed());
        }
      }
      for (ReturnObject r : reply.getReturnsList()) {
        ObjectId objectId = ObjectId.fromBytes(r.getObjectId().toByteArray());
        if (p.rebuild) {
          rebuilds.takeRebuilt(objectId, r.getValue());
          refs.discard(objectId, r.getValue());
          continue;
        }
        List<ReferenceCounter.Nested> nested = ReferenceCounter.Nested.in(r);
        refs.addContained(nested, true);
        refs.storeIfReferenced(objectId, r.getValue());
        refs.setContains(objectId, nested);
      }
      refs.removeSubmitted(p.argRefs);
      boolean shared =
          p.spec.getStreamingGenerator()
              || reply.getReturnsList().stream().anyMatch(r -> r.getValue().hasShared());
      if (shared) {
        rebuilds.afterFinal(id, p.spec, p.retriesLeft, null);
      }
    } else {
      reply.getReturnsList().forEach(this::dropNested);
    }
  }

  /**
   * A return that will not be stored gives up the borrows registered for its nested refs, and its
   * shared-memory copy unless the object is referenced (stored from an earlier reply).
   */
  private void dropNested(ReturnObject r) {
    drop(ObjectId.fromBytes(r.getObjectId().toByteArray()), r);
  }

  private void drop(ObjectId id, ReturnObject r) {
    if (r.getNestedRefsCount() > 0) {
      refs.dropPreRegistered(ReferenceCounter.Nested.in(r));
    }
    refs.discard(id, r.getValue());
  }

  /**
   * Handles a failure of the task as a whole. A {@code retriable} failure (worker death, lost
   * dependency) is retried while retries remain; otherwise every return object becomes the error.
   */
  public void fail(TaskId id, ErrorInfo error, boolean retriable) {
    PendingTask p = pending.get(id);
    if (p == null) {
      return;
    }
    if (p.cancelled && error.getType() != ErrorType.TASK_CANCELLED) {
      error = cancelledError(p.spec);
      retriable = false;
    }
    if (retriable && retry(p, error)) {
      return;
    }
    if (pending.remove(id, p)) {
      if (!p.rebuild) {
        events.failed(p.spec, error);
        storeFailure(id, p.spec, error);
      }
      counters.failed(p.rebuild, error);
      refs.removeSubmitted(p.argRefs);
      rebuilds.afterFinal(id, p.spec, 0, error);
    }
  }

  /** Every return object becomes {@code error}; a generator's stream ends at its cursor. */
  private void storeFailure(TaskId id, TaskSpec spec, ErrorInfo error) {
    for (int i = 1; i <= spec.getNumReturns(); i++) {
      refs.storeIfReferenced(ObjectId.of(id, i), Errors.value(error));
    }
    ObjectRefStream stream = streams.get(GeneratorIds.generatorId(id));
    if (stream != null) {
      stream.fail(error);
    }
  }

  /** Fails every unfinished task with {@code error}, without retries; used at shutdown. */
  public void failAll(ErrorInfo error) {
    for (TaskId id : pending.keySet()) {
      PendingTask p = pending.remove(id);
      if (p != null) {
        events.failed(p.spec, error);
        counters.failed(p.rebuild, error);
        storeFailure(id, p.spec, error);
        refs.removeSubmitted(p.argRefs);
      }
    }
  }

  private boolean retry(PendingTask p, ErrorInfo error) {
    synchronized (p) {
      if (p.retriesLeft <= 0 || p.cancelled) {
        return false;
      }
      p.retriesLeft--;
      events.failed(p.spec, error);
      p.spec =
          GeneratorRetries.withBudget(
                  p.spec.toBuilder().setAttemptNumber(p.spec.getAttemptNumber() + 1), p.retriesLeft)
              .build();
    }
    ObjectRefStream stream =
        streams.get(GeneratorIds.generatorId(TaskId.fromBytes(p.spec.getTaskId().toByteArray())));
    if (stream != null) {
      stream.setAttempt(p.spec.getAttemptNumber());
    }
    log.warn(
        "retrying task {} ({}) as attempt {} ({} retries left) after: {}",
        TaskId.fromBytes(p.spec.getTaskId().toByteArray()),
        p.spec.getDisplayName(),
        p.spec.getAttemptNumber(),
        p.retriesLeft,
        firstLine(error.getMessage()));
    events.submitted(p.spec);
    counters.retried.increment();
    resubmitter.accept(p.spec);
    return true;
  }

  /** The error an application-error reply carries in place of its first return. */
  private static ErrorInfo applicationError(PushTaskReply reply) {
    return reply.getReturnsCount() > 0 && reply.getReturns(0).getValue().hasError()
        ? reply.getReturns(0).getValue().getError()
        : Errors.error(ErrorType.TASK_EXECUTION_EXCEPTION, "application error");
  }

  /** The error stored for a cancelled task. */
  static ErrorInfo cancelledError(TaskSpec spec) {
    return Errors.error(
        ErrorType.TASK_CANCELLED,
        "task "
            + TaskId.fromBytes(spec.getTaskId().toByteArray())
            + " ("
            + spec.getDisplayName()
            + ") was cancelled");
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
