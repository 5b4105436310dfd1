package dev.sluice.runtime.actor;

import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The calls waiting for and running on one actor instance, in the actor's worker: the only place of
 * the <em>actor call order rule</em> and of the actor's concurrency limit (DESIGN "Actors").
 *
 * <p><b>Order.</b> In an ordered queue (an actor with {@code maxConcurrency} 1) each caller's calls
 * are released to run strictly by sequence number: a call that arrives early is <em>held</em> until
 * every lower number has been released or skipped. A caller's expected number starts at the {@code
 * processedUpTo} of its first message and only moves forward: a higher {@code processedUpTo} (with
 * a call, or alone through {@link #advance}) skips the numbers below it, which will never arrive.
 * In an unordered queue every call is released as it arrives. Released calls of all callers start
 * in the order they were released (FIFO), at most {@code maxConcurrency} at a time; so with
 * ordering and {@code maxConcurrency} 1, one call runs at a time and each caller's calls run in
 * sequence order.
 *
 * <p><b>Each call is answered exactly once:</b> either {@link Call#start} is called once, or {@link
 * Call#rejected} is, never both. A call whose number is taken (a call with that number or task id
 * was already accepted by this queue, or the number is below what the caller reported processed) is
 * rejected as {@link CallRejection.Reason#DUPLICATE}; so is a held call whose number a later {@code
 * processedUpTo} passes (the caller says that number is done, so the held one is a stale copy). A
 * call cancelled while queued or held is rejected as {@link CallRejection.Reason#CANCELLED} and its
 * number is skipped when its turn comes.
 *
 * <p><b>Permits.</b> A running call holds one of {@code maxConcurrency} permits from the moment it
 * starts until the stage its {@link Call#start} returned completes (a sync call returns a completed
 * stage when it is done). No thread is held while an async call's stage is pending.
 *
 * <p><b>Threads.</b> Every method may be called from any thread (transport threads of many callers
 * at once). State is guarded by one private lock, held only for bookkeeping: {@link Call#start}
 * runs on a thread of the {@code runner} (meant to be a virtual thread per task, so each call has a
 * fresh thread), and {@link Call#rejected} runs on the thread whose method call caused the
 * rejection ({@link #offer}, {@link #advance}, {@link #cancel}, {@link #callerGone}, {@link
 * #close}), after the lock is released and before that method returns. A pending stage's completion
 * hands the next call to the runner from the completing thread, without running it there.
 */
public final class ActorCallQueue {
  private static final Logger log = LoggerFactory.getLogger(ActorCallQueue.class);

  /** One actor call, as the queue sees it. */
  public interface Call {
    /** The call's task id, unique among calls; {@link #cancel} finds the call by it. */
    TaskId taskId();

    /**
     * Runs the call, on a thread of the queue's runner, once its turn has come. A sync call runs to
     * its end and returns a completed stage (or null); an async call starts its work and returns
     * the pending stage. The call's permit is released when the stage completes, however it
     * completes; a {@code start} that throws releases it at once (the call should report its own
     * failures: the queue only logs it).
     */
    CompletionStage<?> start();

    /** The call will never run in this queue, for {@code rejection}'s reason. */
    void rejected(CallRejection rejection);
  }

  /** A call in the queue. Fields are guarded by the queue's lock. */
  private static final class Entry {
    final WorkerId caller;
    final long seq;
    final Call call;
    final TaskId taskId;
    boolean running;

    Entry(WorkerId caller, long seq, Call call) {
      this.caller = caller;
      this.seq = seq;
      this.call = call;
      this.taskId = call.taskId();
    }
  }

  /** A rejection to deliver once the lock is released. */
  private record Rejected(Call call, CallRejection rejection) {}

  private final int maxConcurrency;
  private final boolean ordered;
  private final Executor runner;
  private final Object lock = new Object();

  /** Released and not started, in release order. Guarded by {@code lock}. */
  private final LinkedHashSet<Entry> runnable = new LinkedHashSet<>();

  /** Held, released or running calls, by task id. Guarded by {@code lock}. */
  private final Map<TaskId, Entry> byTask = new HashMap<>();

  /** Each caller's numbering. Guarded by {@code lock}. */
  private final Map<WorkerId, CallerSequence<Entry>> callers = new HashMap<>();

  /** Calls started whose stage has not completed. Guarded by {@code lock}. */
  private int running;

  /** Calls held for their turn, all callers. Guarded by {@code lock}. */
  private int held;

  /** Set by {@link #close}: why the queue accepts nothing any more. Guarded by {@code lock}. */
  private String closedReason;

  /**
   * A queue running at most {@code maxConcurrency} calls at once, each on a thread of {@code
   * runner}; with {@code ordered}, each caller's calls in sequence order (an actor with {@code
   * maxConcurrency} 1 is ordered; with a higher limit, ordered calls are handed to the runner in
   * sequence order but may overlap).
   */
  public ActorCallQueue(int maxConcurrency, boolean ordered, Executor runner) {
    if (maxConcurrency < 1) {
      throw new IllegalArgumentException("maxConcurrency must be at least 1: " + maxConcurrency);
    }
    this.maxConcurrency = maxConcurrency;
    this.ordered = ordered;
    this.runner = Objects.requireNonNull(runner, "runner");
  }

  /** The queue of an actor with {@code maxConcurrency}: ordered exactly when it is 1. */
  public static ActorCallQueue forActor(int maxConcurrency, Executor runner) {
    return new ActorCallQueue(maxConcurrency, maxConcurrency == 1, runner);
  }

  /**
   * A call numbered {@code seq} from {@code caller} arrived in a message carrying {@code
   * processedUpTo}. The call starts now, later when its turn and a permit come, or is rejected
   * (duplicate, or the queue is closed).
   */
  public void offer(WorkerId caller, long seq, long processedUpTo, Call call) {
    Objects.requireNonNull(caller, "caller");
    Entry e = new Entry(caller, seq, call);
    List<Rejected> rejected = new ArrayList<>(0);
    List<Entry> start;
    synchronized (lock) {
      if (closedReason != null) {
        rejected.add(closedRejection(e));
        start = List.of();
      } else {
        CallerSequence<Entry> seqs = raiseFloorLocked(caller, processedUpTo, rejected);
        if (!seqs.isNew(seq) || byTask.containsKey(e.taskId)) {
          rejected.add(
              new Rejected(
                  call,
                  new CallRejection(
                      CallRejection.Reason.DUPLICATE,
                      describe(e) + " is a duplicate: its number or task id was already taken")));
        } else {
          byTask.put(e.taskId, e);
          held++;
          releaseLocked(seqs.accept(seq, e));
        }
        start = startableLocked();
      }
    }
    deliver(rejected);
    launch(start);
  }

  /**
   * A message from {@code caller} with no call: every call of it below {@code processedUpTo} has
   * finished or will never be sent. Skips those numbers; may release held calls and reject stale
   * ones.
   */
  public void advance(WorkerId caller, long processedUpTo) {
    Objects.requireNonNull(caller, "caller");
    List<Rejected> rejected = new ArrayList<>(0);
    List<Entry> start;
    synchronized (lock) {
      if (closedReason != null) {
        return;
      }
      raiseFloorLocked(caller, processedUpTo, rejected);
      start = startableLocked();
    }
    deliver(rejected);
    launch(start);
  }

  /**
   * Cancels the call of task {@code taskId} if it is held or waiting for a permit: it is removed,
   * told it was cancelled (before this returns) and never runs, and its number is skipped so later
   * calls are not stuck. Returns false if the call is running, finished or unknown here.
   */
  public boolean cancel(TaskId taskId) {
    Entry e;
    synchronized (lock) {
      e = byTask.get(taskId);
      if (e == null || e.running) {
        return false;
      }
      byTask.remove(taskId);
      if (!runnable.remove(e)) {
        callers.get(e.caller).removeHeld(e.seq);
        held--;
      }
    }
    deliver(
        List.of(
            new Rejected(
                e.call,
                new CallRejection(
                    CallRejection.Reason.CANCELLED,
                    describe(e) + " was cancelled before it ran"))));
    return true;
  }

  /**
   * The calling process {@code caller} is gone: its held and waiting calls are dropped (each told
   * so) and its numbering forgotten; its running calls run on. Other callers' calls are untouched.
   * Returns how many calls were dropped.
   */
  public int callerGone(WorkerId caller) {
    List<Rejected> rejected = new ArrayList<>();
    synchronized (lock) {
      CallerSequence<Entry> seqs = callers.remove(caller);
      if (seqs == null) {
        return 0;
      }
      List<Entry> dropped = seqs.removeAllHeld();
      held -= dropped.size();
      for (Iterator<Entry> it = runnable.iterator(); it.hasNext(); ) {
        Entry e = it.next();
        if (e.caller.equals(caller)) {
          it.remove();
          dropped.add(e);
        }
      }
      for (Entry e : dropped) {
        byTask.remove(e.taskId);
        rejected.add(
            new Rejected(
                e.call,
                new CallRejection(
                    CallRejection.Reason.CALLER_GONE,
                    describe(e) + " was dropped: its caller " + caller + " is gone")));
      }
    }
    deliver(rejected);
    return rejected.size();
  }

  /**
   * The actor is exiting, for {@code reason}: every held and waiting call is rejected (before this
   * returns), and so is every later offer. Running calls run on; nothing starts after them.
   */
  public void close(String reason) {
    Objects.requireNonNull(reason, "reason");
    List<Rejected> rejected = new ArrayList<>();
    synchronized (lock) {
      if (closedReason != null) {
        return;
      }
      closedReason = reason;
      List<Entry> dropped = new ArrayList<>(runnable);
      runnable.clear();
      for (CallerSequence<Entry> seqs : callers.values()) {
        dropped.addAll(seqs.removeAllHeld());
      }
      held = 0;
      for (Entry e : dropped) {
        byTask.remove(e.taskId);
        rejected.add(closedRejection(e));
      }
    }
    deliver(rejected);
  }

  /** Calls started and not finished (each holds a permit). */
  public int runningCount() {
    synchronized (lock) {
      return running;
    }
  }

  /** Calls waiting: held for their turn or released and waiting for a permit. */
  public int queuedCount() {
    synchronized (lock) {
      return held + runnable.size();
    }
  }

  /** Whether the call of task {@code taskId} has started and not finished. */
  public boolean isRunning(TaskId taskId) {
    synchronized (lock) {
      Entry e = byTask.get(taskId);
      return e != null && e.running;
    }
  }

  /** The caller's numbering, created at its first message; raised to {@code processedUpTo}. */
  private CallerSequence<Entry> raiseFloorLocked(
      WorkerId caller, long processedUpTo, List<Rejected> rejected) {
    CallerSequence<Entry> seqs = callers.get(caller);
    if (seqs == null) {
      seqs = new CallerSequence<>(ordered, processedUpTo);
      callers.put(caller, seqs);
      return seqs;
    }
    for (Entry stale : seqs.raiseFloor(processedUpTo)) {
      held--;
      byTask.remove(stale.taskId);
      rejected.add(
          new Rejected(
              stale.call,
              new CallRejection(
                  CallRejection.Reason.DUPLICATE,
                  describe(stale)
                      + " is stale: its caller reported every call below "
                      + processedUpTo
                      + " processed")));
    }
    releaseLocked(seqs.releasable());
    return seqs;
  }

  /** Moves calls whose turn has come from held to runnable, in order. */
  private void releaseLocked(List<Entry> released) {
    held -= released.size();
    runnable.addAll(released);
  }

  /** Takes permits for the next runnable calls, in release order. */
  private List<Entry> startableLocked() {
    if (closedReason != null || running >= maxConcurrency || runnable.isEmpty()) {
      return List.of();
    }
    List<Entry> start = new ArrayList<>(1);
    for (Iterator<Entry> it = runnable.iterator(); it.hasNext() && running < maxConcurrency; ) {
      Entry e = it.next();
      it.remove();
      e.running = true;
      running++;
      start.add(e);
    }
    return start;
  }

  /** Hands started calls to the runner; called without the lock. */
  private void launch(List<Entry> start) {
    for (int i = 0; i < start.size(); i++) {
      Entry e = start.get(i);
      try {
        runner.execute(() -> run(e));
      } catch (RejectedExecutionException ex) {
        // The runner has shut down: the actor is exiting. Nothing can start any more.
        close("the actor's call runner has shut down");
        List<Rejected> rejected = new ArrayList<>();
        synchronized (lock) {
          for (Entry notRun : start.subList(i, start.size())) {
            notRun.running = false;
            running--;
            byTask.remove(notRun.taskId);
            rejected.add(closedRejection(notRun));
          }
        }
        deliver(rejected);
        return;
      }
    }
  }

  /** On a runner thread: starts the call; its permit is released when its stage completes. */
  private void run(Entry e) {
    boolean handedOff = false;
    try {
      CompletionStage<?> stage = e.call.start();
      if (stage != null) {
        stage.whenComplete((value, failure) -> finished(e));
        handedOff = true;
      }
    } catch (RuntimeException ex) {
      log.warn("{} threw from its start; its permit is released", describe(e), ex);
    } finally {
      if (!handedOff) {
        finished(e);
      }
    }
  }

  /** Call {@code e} finished: releases its permit and starts the next calls. */
  private void finished(Entry e) {
    List<Entry> start;
    synchronized (lock) {
      running--;
      e.running = false;
      byTask.remove(e.taskId, e);
      start = startableLocked();
    }
    launch(start);
  }

  /** Called under the lock, after {@code closedReason} is set. */
  private Rejected closedRejection(Entry e) {
    return new Rejected(
        e.call,
        new CallRejection(
            CallRejection.Reason.CLOSED,
            describe(e) + " will not run: the actor is exiting (" + closedReason + ")"));
  }

  /** Tells rejected calls; called without the lock. A throwing callback does not stop the rest. */
  private static void deliver(List<Rejected> rejected) {
    for (Rejected r : rejected) {
      try {
        r.call.rejected(r.rejection);
      } catch (RuntimeException ex) {
        log.warn("Rejection callback of task {} threw", r.call.taskId(), ex);
      }
    }
  }

  private static String describe(Entry e) {
    return "Actor call " + e.taskId + " (caller " + e.caller + ", number " + e.seq + ")";
  }
}
