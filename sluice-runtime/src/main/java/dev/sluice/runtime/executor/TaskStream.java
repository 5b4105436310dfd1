package dev.sluice.runtime.executor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturns;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturnsReply;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's end of one lease's task stream: hands pushed tasks to the {@link TaskReceiver} and
 * sends their replies back; carries streaming generator reports to the owner and routes the owner's
 * report replies to each generator's {@link GeneratorWaiter}. Replies finished back to back are
 * sent in one message, flushed as soon as no further task of the stream is queued, and at most
 * {@link #MAX_HOLD_MILLIS} after a reply was held back, so batching never delays the last reply,
 * nor any reply by more than that.
 *
 * <p>Threads: inbound batches arrive on a transport thread; replies are sent from task threads, for
 * cancelled queued tasks a transport thread, and held replies the report sender. {@code lock}
 * serializes sends.
 */
public final class TaskStream implements StreamObserver<PushTaskBatch> {
  private static final Logger log = LoggerFactory.getLogger(TaskStream.class);
  private static final int MAX_BATCH = 64;

  /**
   * Longest a finished task's reply is held back while the next task runs. Short, so that a reply
   * never waits for a long task, and the owner can tell which task a dying worker ran (the first of
   * the lease's tasks it has no reply for).
   */
  private static final long MAX_HOLD_MILLIS = 2;

  private final TaskReceiver receiver;
  private final StreamObserver<TaskResultBatch> out;
  private final Object lock = new Object();
  private final Executor reportSender;

  /** The process's produced-items counter: added to once per report, by its item count. */
  private final Counter producedItems;

  private final AtomicLong reportIds = new AtomicLong();
  private final Set<ByteString> cancelledBeforeArrival = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<Long, SentReport> unansweredReports = new ConcurrentHashMap<>();
  private final int maxBatchBytes;

  @GuardedBy("lock")
  private TaskResultBatch.Builder buffered = TaskResultBatch.newBuilder();

  @GuardedBy("lock")
  private long bufferedBytes;

  @GuardedBy("lock")
  private final List<IssuedItem> issued = new ArrayList<>();

  @GuardedBy("lock")
  private boolean reportFlushScheduled;

  @GuardedBy("lock")
  private boolean heldFlushScheduled;

  @GuardedBy("lock")
  private boolean closed;

  /**
   * The calling process whose actor calls this stream carries, from its first call (null on a
   * lease's stream and on an actor's creation stream). Set and read by {@link ActorHost}.
   */
  volatile WorkerId actorCaller;

  /** The lease this stream serves, from the first push that names it (empty until then). */
  private volatile ByteString leaseId = ByteString.EMPTY;

  /**
   * One item's report, issued by a generator and not yet sent; it goes out once {@code value} is
   * ready (its object sealed), after every item issued before it.
   */
  private record IssuedItem(
      ReportGeneratorItemReturns header,
      long index,
      CompletableFuture<ReturnObject.Builder> value,
      GeneratorWaiter waiter,
      boolean resent) {}

  /** A sent report: whose it is and how many items it carried. */
  private record SentReport(GeneratorWaiter waiter, int items) {}

  /** A stream that counts no produced items (tests without a process's metrics). */
  TaskStream(
      TaskReceiver receiver,
      StreamObserver<TaskResultBatch> out,
      Executor reportSender,
      int maxMessageBytes) {
    this(
        receiver,
        out,
        reportSender,
        maxMessageBytes,
        SluiceMetrics.disabled().streamItems(SluiceMetrics.Side.PRODUCED));
  }

  TaskStream(
      TaskReceiver receiver,
      StreamObserver<TaskResultBatch> out,
      Executor reportSender,
      int maxMessageBytes,
      Counter producedItems) {
    this.maxBatchBytes = maxMessageBytes / 2;
    this.receiver = receiver;
    this.producedItems = producedItems;
    this.out = out;
    this.reportSender = reportSender;
  }

  /**
   * Opens the worker's end of a lease's task stream ({@code PushTasks}) for {@code receiver}: the
   * returned observer takes the owner's batches, {@code out} carries the replies.
   */
  public static StreamObserver<PushTaskBatch> open(
      TaskReceiver receiver, StreamObserver<TaskResultBatch> out) {
    return new TaskStream(
        receiver,
        out,
        receiver.reportSender(),
        receiver.maxMessageBytes(),
        receiver.producedItems());
  }

  @Override
  public void onNext(PushTaskBatch batch) {
    for (ReportGeneratorItemReturnsReply reply : batch.getReportRepliesList()) {
      SentReport sent = unansweredReports.remove(reply.getReportId());
      if (sent != null) {
        sent.waiter().onReply(reply, sent.items());
      }
    }
    for (PushTaskRequest task : batch.getTasksList()) {
      if (leaseId.isEmpty() && !task.getLeaseId().isEmpty()) {
        leaseId = task.getLeaseId();
      }
      receiver.push(task, this, batch.getCallerProcessedUpTo());
      if (cancelledBeforeArrival.remove(task.getSpec().getTaskId())) {
        receiver.cancel(TaskId.fromBytes(task.getSpec().getTaskId().toByteArray()));
      }
    }
    if (batch.getTasksCount() == 0 && batch.getCallerProcessedUpTo() > 0) {
      receiver.callerProcessed(this, batch.getCallerProcessedUpTo());
    }
    for (ByteString id : batch.getCancelTaskIdsList()) {
      if (!receiver.cancel(TaskId.fromBytes(id.toByteArray()))) {
        // The owner may send a cancel just before the push it cancels: remember it.
        cancelledBeforeArrival.add(id);
      }
    }
    if (batch.getSteal()) {
      receiver.returnQueued(this);
      synchronized (lock) {
        if (!closed) {
          flushLocked();
          buffered.setStealDone(true);
          flushLocked();
        }
      }
    }
  }

  @Override
  public void onError(Throwable t) {
    log.info("the owner's task stream failed ({}): giving the lease back", t.toString());
    close(true);
    receiver.ownerLost(this);
  }

  @Override
  public void onCompleted() {
    close(false);
  }

  private void close(boolean broken) {
    receiver.dropQueued(this, broken);
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      unansweredReports.values().forEach(r -> r.waiter().onOwnerGone());
      unansweredReports.clear();
      issued.forEach(i -> i.waiter().onOwnerGone());
      issued.clear();
      try {
        out.onCompleted();
      } catch (RuntimeException e) {
        // the owner is gone; nothing to tell it
      }
    }
  }

  /** The lease this stream serves, or empty if no push named it. */
  ByteString leaseId() {
    return leaseId;
  }

  /**
   * Tells the owner that task {@code taskId} started while an earlier task of this lease still runs
   * (blocked), so a worker death charges it a retry too.
   */
  void sendStarted(ByteString taskId) {
    synchronized (lock) {
      if (!closed) {
        buffered.addStartedTaskIds(taskId);
        flushLocked();
      }
    }
  }

  /**
   * Sends the reply of one task, or buffers it when {@code moreQueued} and a task of this stream is
   * still next in the receiver's queue: that task's own reply (or the steal or cancel that takes it
   * out of the queue) flushes the buffer.
   *
   * <p>The queue is looked at again here, under {@code lock}, because the caller's look was
   * earlier: a steal may have taken the next task back and flushed in between, and a reply buffered
   * after that flush would wait for a task that never comes (its owner then waits for the reply
   * forever). A steal takes its tasks out of the queue before it flushes under {@code lock}, so
   * either this look misses them and flushes, or that flush sends this reply.
   */
  void send(ByteString taskId, PushTaskReply reply, boolean moreQueued) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      TaskResult result = TaskResult.newBuilder().setTaskId(taskId).setReply(reply).build();
      makeRoomLocked(result.getSerializedSize());
      buffered.addResults(result);
      bufferedBytes += result.getSerializedSize();
      if (moreQueued && buffered.getResultsCount() < MAX_BATCH && receiver.nextQueuedIsOf(this)) {
        if (!heldFlushScheduled) {
          // The next task may run long: the held reply goes out after a moment regardless.
          heldFlushScheduled = true;
          CompletableFuture.delayedExecutor(MAX_HOLD_MILLIS, TimeUnit.MILLISECONDS, reportSender)
              .execute(this::flushHeld);
        }
        return;
      }
      flushLocked();
    }
  }

  /**
   * Issues the report of one yielded item. If the producer is about to wait for credit, or the item
   * is the generator's first (the consumer's time to first item), the report goes out at once on
   * the calling thread; otherwise the report sender thread sends it, merged with whatever else was
   * issued meanwhile, so a fast producer's items travel several to a message while a slow one's go
   * out one by one without delay.
   *
   * <p>{@code header} is what every report of the generator attempt carries (its id, the worker's
   * address, the attempt), the same instance for each of its items: a report is built from it only
   * for the first item of each message, the items after it are added to that report.
   *
   * @return false if the owner is gone (the stream is closed)
   */
  boolean sendReport(
      ReportGeneratorItemReturns header,
      long index,
      CompletableFuture<ReturnObject.Builder> value,
      GeneratorWaiter waiter) {
    return sendReport(header, index, value, waiter, false);
  }

  /**
   * As above; {@code resent}: the item was issued before (written into the stream's ring, DESIGN
   * "Shared items") and is reported again, so it is neither generated nor produced once more.
   */
  boolean sendReport(
      ReportGeneratorItemReturns header,
      long index,
      CompletableFuture<ReturnObject.Builder> value,
      GeneratorWaiter waiter,
      boolean resent) {
    synchronized (lock) {
      if (closed) {
        return false;
      }
      if (resent) {
        waiter.onResent();
      } else {
        waiter.onIssued();
      }
      issued.add(new IssuedItem(header, index, value, waiter, resent));
      if (!value.isDone()) {
        // On the thread that completes the seal (a transport thread): sending the report there
        // saves a thread hop on the way to the consumer.
        value.whenComplete((v, e) -> sendIssued());
      }
      if (waiter.creditExhausted() || waiter.onlyFirstIssued()) {
        sendIssuedLocked();
      } else if (!reportFlushScheduled) {
        reportFlushScheduled = true;
        reportSender.execute(this::sendIssued);
      }
      return true;
    }
  }

  /** Sends every issued report now. */
  void sendIssued() {
    synchronized (lock) {
      reportFlushScheduled = false;
      if (!closed) {
        sendIssuedLocked();
      }
    }
  }

  /**
   * Sends the issued items whose values are ready, up to the first that is not (reports keep yield
   * order), merging runs of consecutive items of one generator attempt into one report.
   */
  @GuardedBy("lock")
  private void sendIssuedLocked() {
    if (issued.isEmpty()) {
      return;
    }
    ReportGeneratorItemReturns.Builder merged = null;
    ReportGeneratorItemReturns header = null;
    GeneratorWaiter owner = null;
    long mergedBytes = 0;
    int ready = 0;
    int produced = 0;
    for (IssuedItem item : issued) {
      if (!item.value().isDone()) {
        break;
      }
      ready++;
      produced += item.resent() ? 0 : 1;
      ReturnObject object = item.value().join().build();
      long itemBytes = object.getSerializedSize() + 8L;
      if (merged != null
          && item.header() == header
          && item.index() == merged.getItemIndex() + merged.getReturnedObjectsCount()
          && merged.getReturnedObjectsCount() < MAX_BATCH * 16
          && mergedBytes + itemBytes <= maxBatchBytes) {
        merged.addReturnedObjects(object);
        mergedBytes += itemBytes;
        continue;
      }
      addReportLocked(merged, owner);
      header = item.header();
      merged = header.toBuilder().setItemIndex(item.index()).addReturnedObjects(object);
      owner = item.waiter();
      mergedBytes = itemBytes;
    }
    addReportLocked(merged, owner);
    issued.subList(0, ready).clear();
    if (produced > 0) {
      producedItems.increment(produced);
    }
    flushLocked();
  }

  @GuardedBy("lock")
  private void addReportLocked(ReportGeneratorItemReturns.Builder report, GeneratorWaiter waiter) {
    if (report == null) {
      return;
    }
    long id = reportIds.incrementAndGet();
    unansweredReports.put(id, new SentReport(waiter, report.getReturnedObjectsCount()));
    ReportGeneratorItemReturns built = report.setReportId(id).build();
    makeRoomLocked(built.getSerializedSize());
    buffered.addReports(built);
    bufferedBytes += built.getSerializedSize();
  }

  /** Sends what is buffered if adding {@code bytes} more would pass half the message limit. */
  @GuardedBy("lock")
  private void makeRoomLocked(long bytes) {
    if (bufferedBytes > 0 && bufferedBytes + bytes > maxBatchBytes) {
      flushLocked();
    }
  }

  private void flushHeld() {
    synchronized (lock) {
      heldFlushScheduled = false;
      if (!closed) {
        flushLocked();
      }
    }
  }

  /** Sends whatever is buffered. */
  void flush() {
    synchronized (lock) {
      if (!closed) {
        flushLocked();
      }
    }
  }

  @GuardedBy("lock")
  private void flushLocked() {
    if (buffered.getResultsCount() == 0
        && buffered.getReportsCount() == 0
        && !buffered.getStealDone()
        && buffered.getStartedTaskIdsCount() == 0) {
      return;
    }
    TaskResultBatch batch = buffered.build();
    buffered = TaskResultBatch.newBuilder();
    bufferedBytes = 0;
    try {
      out.onNext(batch);
    } catch (RuntimeException e) {
      log.debug(
          "could not send {} task replies (owner gone?): {}",
          batch.getResultsCount(),
          e.toString());
    }
  }
}
