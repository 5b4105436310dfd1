package dev.sluice.runtime.executor;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturns;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturnsReply;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's end of one lease's task stream: hands pushed tasks to the {@link TaskReceiver} and
 * sends their replies back; carries streaming generator reports to the owner and routes the
 * owner's report replies to each generator's {@link GeneratorWaiter}. Replies finished back to back are sent in one message, flushed as
 * soon as no further task is queued, so batching never delays the last reply.
 *
 * <p>Threads: inbound batches arrive on a transport thread; replies are sent from the execution
 * thread or, for cancelled queued tasks, a transport thread. {@code lock} serializes sends.
 */
final class TaskStream implements StreamObserver<PushTaskBatch> {
  private static final Logger log = LoggerFactory.getLogger(TaskStream.class);
  private static final int MAX_BATCH = 64;

  private final TaskReceiver receiver;
  private final StreamObserver<TaskResultBatch> out;
  private final Object lock = new Object();
  private final AtomicLong reportIds = new AtomicLong();
  private final ConcurrentHashMap<Long, GeneratorWaiter> unansweredReports =
      new ConcurrentHashMap<>();
  private TaskResultBatch.Builder buffered = TaskResultBatch.newBuilder();
  private boolean closed;

  TaskStream(TaskReceiver receiver, StreamObserver<TaskResultBatch> out) {
    this.receiver = receiver;
    this.out = out;
  }

  @Override
  public void onNext(PushTaskBatch batch) {
    for (ReportGeneratorItemReturnsReply reply : batch.getReportRepliesList()) {
      GeneratorWaiter waiter = unansweredReports.remove(reply.getReportId());
      if (waiter != null) {
        waiter.onReply(reply);
      }
    }
    for (PushTaskRequest task : batch.getTasksList()) {
      receiver.push(task, this);
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
    close();
  }

  @Override
  public void onCompleted() {
    close();
  }

  private void close() {
    receiver.dropQueued(this);
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      unansweredReports.values().forEach(GeneratorWaiter::onOwnerGone);
      unansweredReports.clear();
      try {
        out.onCompleted();
      } catch (RuntimeException e) {
        // the owner is gone; nothing to tell it
      }
    }
  }

  /** Sends (or buffers, when {@code moreQueued}) the reply of one task. */
  void send(ByteString taskId, PushTaskReply reply, boolean moreQueued) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      buffered.addResults(TaskResult.newBuilder().setTaskId(taskId).setReply(reply));
      if (moreQueued && buffered.getResultsCount() < MAX_BATCH) {
        return;
      }
      flushLocked();
    }
  }

  /**
   * Issues a generator report: assigns its report id, registers {@code waiter} for the reply and
   * sends it at once (reports are latency-critical; buffered task replies go with it).
   *
   * @return false if the owner is gone (the stream is closed)
   */
  boolean sendReport(ReportGeneratorItemReturns.Builder report, int items,
      GeneratorWaiter waiter) {
    synchronized (lock) {
      if (closed) {
        return false;
      }
      long id = reportIds.incrementAndGet();
      waiter.onReported(items);
      unansweredReports.put(id, waiter);
      buffered.addReports(report.setReportId(id));
      flushLocked();
      return true;
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

  private void flushLocked() {
    if (buffered.getResultsCount() == 0 && buffered.getReportsCount() == 0
        && !buffered.getStealDone()) {
      return;
    }
    TaskResultBatch batch = buffered.build();
    buffered = TaskResultBatch.newBuilder();
    try {
      out.onNext(batch);
    } catch (RuntimeException e) {
      log.debug("could not send {} task replies (owner gone?): {}", batch.getResultsCount(),
          e.toString());
    }
  }
}
