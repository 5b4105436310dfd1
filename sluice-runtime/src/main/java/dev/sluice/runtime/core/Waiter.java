package dev.sluice.runtime.core;

import dev.sluice.AwaitResult;
import dev.sluice.Awaitable;
import dev.sluice.ObjectRef;
import dev.sluice.SluiceException;
import dev.sluice.TaskCancelledException;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.common.TaskContext;
import dev.sluice.runtime.owner.ObjectRefGeneratorImpl;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Waiting for objects: for one value ({@link #waitFor}, with work helping, DESIGN "Nested tasks")
 * or for some of several ({@link #waitAny}). While a worker's task waits, its CPU is lent out
 * through the {@code blocked} hook (so the tasks it waits for can run on a full node); a task
 * waiting for a child it submitted that is still queued in this process runs the child itself
 * through the {@link JoinHelper}.
 *
 * <p>Threads: called on user threads and task threads, and blocks them; completions arrive on
 * transport threads. Work helping happens only on a worker's task threads (a driver has no {@link
 * JoinHelper}).
 */
final class Waiter {
  /** Workers only: runs queued children of a blocked task inline (null in drivers). */
  private final JoinHelper joins;

  private final CurrentTask currentTask;
  private final RefGuard guard;
  private final ObjectFutures futures;

  /** Told true when the calling task starts waiting, false when it stops. */
  private final Consumer<Boolean> blocked;

  private final boolean isWorker;

  Waiter(
      JoinHelper joins,
      CurrentTask currentTask,
      RefGuard guard,
      ObjectFutures futures,
      Consumer<Boolean> blocked,
      boolean isWorker) {
    this.joins = joins;
    this.currentTask = currentTask;
    this.guard = guard;
    this.futures = futures;
    this.blocked = blocked;
    this.isWorker = isWorker;
  }

  /**
   * Waits for {@code f}, the value of {@code ref}, lending this worker's CPU while blocked; {@code
   * timeout} null waits forever.
   */
  ObjectValue waitFor(CompletableFuture<ObjectValue> f, ObjectRef<?> ref, Duration timeout) {
    if (f.isDone()) {
      return f.join();
    }
    TaskId child = helpable(ref);
    if (child == null) {
      return waitBlocked(f, ref, timeout, null);
    }
    // Work helping: run the child here while it is still queued in this process; otherwise wait,
    // waking up if it comes back to the queue (stolen back from a worker, or queued for a retry).
    long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        CompletableFuture<Void> requeued = joins.whenQueued(child);
        while (!f.isDone() && joins.tryRun(child)) {
          // ran it (a retry may queue it again)
        }
        if (f.isDone()) {
          return f.join();
        }
        Duration left =
            timeout == null ? null : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
        ObjectValue v = waitBlocked(f, ref, left, requeued);
        if (v != null) {
          return v;
        }
        joins.unwatch(child);
      }
    } finally {
      joins.unwatch(child);
    }
  }

  /**
   * The task of {@code ref} if this worker's current task may run it inline when it is queued here:
   * refs of tasks this process submitted, read by a task thread of a worker.
   */
  private TaskId helpable(ObjectRef<?> ref) {
    if (joins == null
        || currentTask.get() == null
        || ref.id().isPut()
        || !guard.isOwnedHere(guard.impl(ref))) {
      return null;
    }
    return ref.id().taskId();
  }

  /**
   * Waits for {@code f}, lending this worker's CPU while blocked; returns null if {@code wake}
   * completed first.
   */
  private ObjectValue waitBlocked(
      CompletableFuture<ObjectValue> f,
      ObjectRef<?> ref,
      Duration timeout,
      CompletableFuture<Void> wake) {
    blocked.accept(true);
    try {
      CompletableFuture<?> first = wake == null ? f : CompletableFuture.anyOf(f, wake);
      if (timeout == null) {
        first.get();
      } else {
        first.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      }
      return f.isDone() ? f.get() : null;
    } catch (TimeoutException e) {
      throw Errors.timeout(ref, timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw interrupted(ref);
    } catch (ExecutionException e) {
      throw new SluiceException("failed getting " + ref, e.getCause());
    } finally {
      blocked.accept(false);
    }
  }

  private SluiceException interrupted(ObjectRef<?> ref) {
    TaskContext ctx = currentTask.get();
    if (isWorker && ctx != null) {
      return new TaskCancelledException(
          "task "
              + ctx.taskId()
              + " ("
              + ctx.displayName()
              + ") was interrupted (cancelled) while waiting for "
              + ref);
    }
    return new SluiceException("interrupted while waiting for " + ref);
  }

  /**
   * Waits until {@code numReturns} of {@code items} are ready or {@code timeout} passes; the ready
   * ones (at most {@code numReturns}, in the order given) and the rest.
   */
  <A extends Awaitable> AwaitResult<A> waitAny(List<A> items, int numReturns, Duration timeout) {
    List<CompletableFuture<?>> itemFutures = new ArrayList<>(items.size());
    for (A item : items) {
      if (item instanceof ObjectRef<?> ref) {
        itemFutures.add(futures.future(ref));
      } else if (item instanceof ObjectRefGeneratorImpl<?> gen) {
        itemFutures.add(gen.whenReady());
      } else {
        throw new IllegalArgumentException(
            "cannot wait on "
                + item
                + ": not an ObjectRef or ObjectRefGenerator created by Sluice");
      }
    }
    CompletableFuture<Void> enough = new CompletableFuture<>();
    AtomicInteger done = new AtomicInteger();
    for (CompletableFuture<?> f : itemFutures) {
      f.whenComplete(
          (v, e) -> {
            if (done.incrementAndGet() >= numReturns) {
              enough.complete(null);
            }
          });
    }
    if (!enough.isDone() && !timeout.isZero()) {
      blocked.accept(true);
      try {
        enough.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        // report what is ready so far
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SluiceException("interrupted in wait()");
      } finally {
        blocked.accept(false);
      }
    }
    List<A> ready = new ArrayList<>();
    List<A> unready = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      if (itemFutures.get(i).isDone() && ready.size() < numReturns) {
        ready.add(items.get(i));
      } else {
        unready.add(items.get(i));
      }
    }
    return new AwaitResult<>(ready, unready);
  }
}
