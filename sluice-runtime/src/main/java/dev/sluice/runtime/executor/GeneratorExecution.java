package dev.sluice.runtime.executor;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.generator.GeneratorIds;
import dev.sluice.runtime.generator.GeneratorRetries;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturns;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one streaming generator task on the executor (DESIGN "Execution"): pulls items from the
 * user's {@link Iterator} (or subscribes to its {@link Flow.Publisher}), stores each as the object
 * {@code ObjectId(T, 2 + k)} inside a {@code ReportGeneratorItemReturns} sent to the owner
 * asynchronously, and honours backpressure through a {@link GeneratorWaiter}.
 *
 * <p>Rules kept: item {@code k + 1} is never asked for before item {@code k}'s report was issued;
 * with backpressure the producer blocks (interruptibly) while {@code generated - consumed >=
 * threshold}; a publisher is never asked for more than the remaining credit; the final reply waits
 * until every report is answered and gives the item count, never the values; an application
 * exception becomes an error item at the failing index (unless the owner said, in the spec, that it
 * will retry the task); a broken task stream (owner gone) stops the generator and frees the worker.
 * An actor's generator method also stops when its consumer closed the stream (a "not found" reply,
 * DESIGN "Actors"): its iterator is closed, its subscription cancelled, and the final reply sent,
 * so the actor is free for its next call; a task's generator runs on to its end instead.
 *
 * <p>Runs on the execution thread; a publisher's signals may come on its own threads.
 */
final class GeneratorExecution {
  private static final Logger log = LoggerFactory.getLogger(GeneratorExecution.class);

  /** The task must fail as a whole with this error and be retried; no error item is reported. */
  static final class RetryableFailure extends Exception {
    final Throwable cause;

    RetryableFailure(Throwable cause) {
      super(cause);
      this.cause = cause;
    }
  }

  private final TaskSpec spec;
  private final TaskId taskId;
  private final ByteString generatorId;
  private final TaskStream stream;
  private final Address self;
  private final String what;
  private final String location;
  private final ValueEncoder toValue;
  private final GeneratorWaiter waiter;
  private final BooleanSupplier cancelled;
  private final java.util.function.Consumer<Boolean> paused;
  private final boolean retryApplicationErrors;

  /** The items an iterator's generator writes into its stream's ring (DESIGN "Shared items"). */
  private final SharedItemsOut shared;

  /** An actor's generator method: it stops when its consumer is gone. */
  private final boolean stopWhenConsumerGone;

  private long nextIndex;

  /** What every report of this attempt carries besides its items (one instance for all). */
  private final ReportGeneratorItemReturns reportHeader;

  GeneratorExecution(
      TaskSpec spec,
      TaskId taskId,
      TaskStream stream,
      Address self,
      String what,
      String location,
      ValueEncoder toValue,
      BooleanSupplier cancelled,
      java.util.function.Consumer<Boolean> paused,
      SluiceMetrics metrics) {
    this.cancelled = cancelled;
    this.paused = paused;
    this.spec = spec;
    this.taskId = taskId;
    this.generatorId = ByteString.copyFrom(GeneratorIds.generatorId(taskId).toBytes());
    this.stream = stream;
    this.self = self;
    this.what = what;
    this.location = location;
    this.toValue = toValue;
    this.waiter =
        new GeneratorWaiter(spec.getGeneratorBackpressureNumObjects(), metrics::backpressureWaited);
    // The owner decided, when it built this attempt's spec, whether it retries an application
    // error.
    this.retryApplicationErrors = GeneratorRetries.willRetryApplicationError(spec);
    this.stopWhenConsumerGone = spec.hasActorCall();
    // The item's id is ObjectId(T, 2 + index): the owner derives it, so it is not sent.
    this.reportHeader =
        ReportGeneratorItemReturns.newBuilder()
            .setGeneratorId(generatorId)
            .setWorkerAddr(self)
            .setAttemptNumber(spec.getAttemptNumber())
            .build();
    this.shared =
        new SharedItemsOut(
            spec.getAttemptNumber(),
            waiter,
            (index, value) ->
                stream.sendReport(
                    reportHeader, index, CompletableFuture.completedFuture(value), waiter, true),
            metrics.streamItems(SluiceMetrics.Side.PRODUCED));
  }

  /** True when the generator must stop: its owner is gone, or an actor's consumer is. */
  private boolean mustStop() {
    return waiter.ownerGone() || (stopWhenConsumerGone && waiter.streamGone());
  }

  /**
   * Runs the generator that the user's function returned (or the exception it threw).
   *
   * @return the final reply, or null if the owner went away
   * @throws InterruptedException if the task was cancelled
   * @throws RetryableFailure if an application error should retry the whole task
   */
  PushTaskReply run(Object source, Throwable thrown) throws InterruptedException, RetryableFailure {
    if (thrown != null) {
      reportFailure(thrown);
    } else if (source instanceof Iterator<?> it) {
      try {
        drive(it);
      } finally {
        closeQuietly(it);
      }
    } else if (source instanceof Flow.Publisher<?> p) {
      subscribe(p);
    } else {
      reportFailure(
          new IllegalStateException(
              what
                  + " returned "
                  + (source == null ? "null" : source.getClass().getName())
                  + " instead of an Iterator or Flow.Publisher"));
    }
    shared.countProduced();
    if (!shared.flush()) {
      waiter.onOwnerGone();
    }
    stream.sendIssued();
    waiter.awaitAllAnswered();
    if (waiter.ownerGone()) {
      log.info("{}: the owner is gone; generator stopped after {} item(s)", what, nextIndex);
      return null;
    }
    if (stopWhenConsumerGone && waiter.streamGone()) {
      log.debug("{}: the consumer closed the stream after {} item(s)", what, nextIndex);
    }
    PushTaskReply.Builder reply =
        PushTaskReply.newBuilder()
            .addReturns(
                toValue
                    .encode(null, GeneratorIds.generatorId(taskId), () -> what)
                    .join()
                    .setObjectId(generatorId));
    // The count, not an id per item: item k is ObjectId(T, 2 + k), as in the reports.
    return reply.setNumStreamed(nextIndex).build();
  }

  private void drive(Iterator<?> it) throws InterruptedException, RetryableFailure {
    while (!mustStop()) {
      Object item;
      try {
        if (!it.hasNext()) {
          return;
        }
        item = it.next();
      } catch (Throwable t) {
        // Iterators often wrap the interrupt in an unchecked exception and clear the flag: the
        // cancel request itself decides, so a cancel never shows up as an error item.
        if (cancelled.getAsBoolean()
            || Thread.currentThread().isInterrupted()
            || t instanceof InterruptedException) {
          throw new InterruptedException("cancelled");
        }
        reportFailure(t);
        return;
      }
      CompletableFuture<ReturnObject.Builder> value =
          toValue.encode(item, itemId(nextIndex), itemName(nextIndex));
      if (shared.offer(nextIndex, value)) {
        nextIndex++;
      } else if (!report(value)) {
        return;
      }
      waiter.awaitCredit(paused);
    }
  }

  private void subscribe(Flow.Publisher<?> publisher)
      throws InterruptedException, RetryableFailure {
    CountDownLatch done = new CountDownLatch(1);
    Throwable[] failure = new Throwable[1];
    Flow.Subscription[] subscription = new Flow.Subscription[1];
    long[] requested = new long[1];
    Object demandLock = new Object();
    // Request only what the credit allows: never more than consumed + threshold in total.
    Runnable topUp =
        () -> {
          long more;
          synchronized (demandLock) {
            if (subscription[0] == null || done.getCount() == 0) {
              return;
            }
            long allowed = waiter.allowedTotal();
            more =
                allowed == Long.MAX_VALUE ? Long.MAX_VALUE - requested[0] : allowed - requested[0];
            if (more <= 0) {
              return;
            }
            requested[0] = allowed == Long.MAX_VALUE ? Long.MAX_VALUE : allowed;
          }
          subscription[0].request(more);
        };
    waiter.onCredit(
        () -> {
          if (mustStop()) {
            Flow.Subscription s = subscription[0];
            if (s != null) {
              s.cancel();
            }
            done.countDown();
          } else {
            topUp.run();
          }
        });
    publisher.subscribe(
        new Flow.Subscriber<Object>() {
          @Override
          public void onSubscribe(Flow.Subscription s) {
            synchronized (demandLock) {
              subscription[0] = s;
            }
            topUp.run();
          }

          @Override
          public void onNext(Object item) {
            if (done.getCount() == 0) {
              return;
            }
            if (!report(toValue.encode(item, itemId(nextIndex), itemName(nextIndex)))
                || mustStop()) {
              subscription[0].cancel();
              done.countDown();
            }
          }

          @Override
          public void onError(Throwable t) {
            failure[0] = t;
            done.countDown();
          }

          @Override
          public void onComplete() {
            done.countDown();
          }
        });
    try {
      done.await();
    } catch (InterruptedException e) {
      Flow.Subscription s = subscription[0];
      if (s != null) {
        s.cancel();
      }
      throw e;
    }
    if (failure[0] != null) {
      reportFailure(failure[0]);
    }
  }

  /** An application failure at the current index: an error item, or a retry of the task. */
  private void reportFailure(Throwable t) throws RetryableFailure {
    if (retryApplicationErrors) {
      throw new RetryableFailure(t);
    }
    ErrorInfo e =
        Errors.applicationError(
            what + " failed on " + location + " after " + nextIndex + " item(s): " + t, t);
    report(CompletableFuture.completedFuture(ReturnObject.newBuilder().setValue(Errors.value(e))));
  }

  /**
   * Issues the report of the next item, to be sent once {@code value} is ready (its object sealed
   * in the node's store): the producer goes on meanwhile. False if the owner is gone.
   */
  private boolean report(CompletableFuture<ReturnObject.Builder> value) {
    long k = nextIndex++;
    return stream.sendReport(reportHeader, k, value, waiter);
  }

  /** Turns a value into a return object: inline or in the node's store, or an error. */
  interface ValueEncoder {
    /**
     * Encodes {@code value}, the object {@code id}, named {@code what} in errors; the future
     * completes when the object may be reported (sealed, if in the store).
     */
    CompletableFuture<ReturnObject.Builder> encode(
        Object value, ObjectId id, Supplier<String> what);
  }

  /** Names item {@code k} in error messages; built only when a message needs it. */
  private Supplier<String> itemName(long k) {
    return () -> what + " item " + k;
  }

  private ObjectId itemId(long k) {
    return GeneratorIds.itemId(taskId, k);
  }

  private void closeQuietly(Iterator<?> it) {
    if (it instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("{}: closing the generator's iterator failed: {}", what, e.toString());
      }
    }
  }
}
