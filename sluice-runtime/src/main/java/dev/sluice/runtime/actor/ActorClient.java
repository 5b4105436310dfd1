package dev.sluice.runtime.actor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import dev.sluice.ActorDiedException;
import dev.sluice.ActorId;
import dev.sluice.TaskId;
import dev.sluice.runtime.actor.ActorCallBook.Call;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.ActorState;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One caller's calls to one actor (DESIGN "Actors", the actor call order rule, caller side): it
 * numbers the calls (kept in an {@link ActorCallBook}), sends each once its arguments are ready
 * over one stream to the actor's current instance, tells the instance how far the caller has got
 * ({@code caller_processed_up_to}), and decides what becomes of calls when the instance dies: calls
 * in flight are failed as retriable, so the task manager sends them again (same number, next
 * attempt) within the actor's {@code maxTaskRetries}, or fails them; calls not yet sent wait for
 * the next instance; once the actor is dead every call fails with its death cause.
 *
 * <p>The actor's state comes from the actor table ({@link #onInfo}); the stream's outcomes from the
 * transport ({@link Listener}). Neither is trusted alone: a broken stream only means "wait for the
 * table", and a table entry about a newer instance retires the stream to the old one.
 *
 * <p>Threads: every field is guarded by this object's monitor. Sends, task manager calls and stream
 * opens happen after the monitor is released (their callbacks may come back into this class).
 */
final class ActorClient {

  /** One stream to one instance of the actor. */
  interface CallStream {
    /** Sends {@code calls} (possibly none) and the caller's processed-up-to mark. */
    void send(List<TaskSpec> calls, long processedUpTo);

    /** Asks the instance to cancel call {@code id} (in band, after its push). */
    void cancel(TaskId id);

    /** Closes the stream; calls still on it are no longer watched. */
    void close();
  }

  /** Outcomes the stream to an instance reports. */
  interface Listener {
    void finished(TaskId id, PushTaskReply reply);

    void broken(Throwable cause);
  }

  /** Opens streams to instances; a seam for tests. */
  interface Connector {
    CallStream open(ActorInfo alive, Listener listener);
  }

  /** Where a call's outcome goes: the task manager. */
  interface Outcomes {
    void complete(TaskId id, PushTaskReply reply);

    /** Fails a call; a {@code retriable} failure is sent again while the call has retries. */
    void fail(TaskId id, ErrorInfo error, boolean retriable);

    /** Whether the call still waits for an outcome (a retry keeps it pending). */
    boolean isPending(TaskId id);
  }

  /** Resolves a call's arguments; a seam for tests. */
  interface Resolver {
    void resolve(TaskSpec spec, Consumer<TaskSpec> ready, Runnable failed);
  }

  private final ActorId actorId;
  private final Connector connector;
  private final Outcomes outcomes;
  private final Resolver resolver;

  @GuardedBy("this")
  private ActorInfo info;

  /** The calls without a final outcome, numbered. */
  @GuardedBy("this")
  private final ActorCallBook book;

  @GuardedBy("this")
  private CallStream stream;

  /** The instance ({@code num_restarts}) {@link #stream} goes to. */
  @GuardedBy("this")
  private int streamInstance = -1;

  /** Which open {@link #stream} came from: a stream's events count only while it is the one. */
  @GuardedBy("this")
  private long streamOpening;

  /** Number of streams opened so far. */
  @GuardedBy("this")
  private long openings;

  /** Calls sent to an instance whose stream broke, until the table says what became of it. */
  @GuardedBy("this")
  private final List<Call> orphans = new ArrayList<>();

  /** The instance the orphans were sent to. */
  @GuardedBy("this")
  private int orphanInstance = -1;

  /** The latest instance whose stream broke: nothing more is sent to it. */
  @GuardedBy("this")
  private int brokenInstance = -1;

  /** The last processed-up-to mark sent. */
  @GuardedBy("this")
  private long sentProcessedUpTo;

  /** Run once the actor is dead and every call has failed; null when none is set or it ran. */
  @GuardedBy("this")
  private Runnable onDead;

  ActorClient(
      ActorId actorId,
      ByteString callerId,
      Connector connector,
      Outcomes outcomes,
      Resolver resolver) {
    this.actorId = actorId;
    this.book = new ActorCallBook(actorId, callerId);
    this.connector = connector;
    this.outcomes = outcomes;
    this.resolver = resolver;
  }

  /** Numbers a new call and sends it once its arguments are ready. */
  void submit(TaskSpec spec) {
    Call c;
    ErrorInfo dead;
    synchronized (this) {
      dead = deathCause();
      if (dead == null) {
        c = book.add(spec);
      } else {
        c = null;
      }
    }
    if (c == null) {
      outcomes.fail(TaskId.fromBytes(spec.getTaskId().toByteArray()), dead, false);
      return;
    }
    resolve(c, c.spec);
  }

  /**
   * A new attempt of a call the task manager retries (its earlier attempt was in flight when the
   * instance died): it keeps its number, so it runs in its place among the caller's calls. The task
   * manager's copy of the spec was recorded before the call was numbered, so the call is found by
   * its id and numbered again here; a call this client no longer has (its reply came, and the task
   * manager retries the application error) is numbered anew, behind the calls sent so far.
   */
  void resubmit(TaskSpec spec) {
    TaskId id = TaskId.fromBytes(spec.getTaskId().toByteArray());
    Call c;
    TaskSpec numbered = null;
    ErrorInfo dead;
    synchronized (this) {
      dead = deathCause();
      c = book.get(id);
      if (c == null && dead == null) {
        c = book.add(spec);
      }
      if (c != null) {
        numbered = book.renumber(c, spec);
        if (dead != null) {
          book.remove(c);
        }
      }
    }
    if (dead != null) {
      outcomes.fail(id, dead, false);
      return;
    }
    resolve(c, numbered);
  }

  private void resolve(Call c, TaskSpec spec) {
    resolver.resolve(spec, resolved -> ready(c, resolved), () -> resolutionFailed(c));
  }

  private void ready(Call c, TaskSpec resolved) {
    synchronized (this) {
      if (!book.holds(c) || c.sent) {
        return;
      }
      c.spec = resolved;
      c.ready = true;
    }
    pump();
  }

  /** An argument failed: the task manager failed the call (or retries it through resubmit). */
  private void resolutionFailed(Call c) {
    if (outcomes.isPending(c.id)) {
      return;
    }
    synchronized (this) {
      if (book.holds(c) && !c.sent) {
        book.remove(c);
      }
    }
    pump();
  }

  /**
   * Cancels a call: one not sent yet is dropped (the caller's mark moves past it, so later calls
   * are not held for it) and fails as cancelled; one sent is cancelled by the instance. Returns
   * false when the call already has its outcome.
   */
  boolean cancel(TaskId id, ErrorInfo cancelled) {
    CallStream to = null;
    boolean dropped = false;
    synchronized (this) {
      Call c = book.get(id);
      if (c == null) {
        return false;
      }
      if (c.sent && stream != null) {
        to = stream;
      } else if (!c.sent) {
        book.remove(c);
        dropped = true;
      }
    }
    if (to != null) {
      to.cancel(id);
    }
    if (dropped) {
      outcomes.fail(id, cancelled, false);
      pump();
    }
    return true;
  }

  /**
   * Runs {@code action} once the actor is dead and this client has failed its calls (at once if it
   * is dead already).
   */
  void onDead(Runnable action) {
    synchronized (this) {
      if (deathCause() == null) {
        onDead = action;
        return;
      }
    }
    action.run();
  }

  /** The actor table's entry changed (or is known for the first time). */
  void onInfo(ActorInfo update) {
    List<Runnable> after = new ArrayList<>();
    synchronized (this) {
      if (info != null && update.getVersion() <= info.getVersion()) {
        return;
      }
      info = update;
      if (update.getState() == ActorState.ACTOR_STATE_DEAD) {
        retireStreamLocked(after);
        failAllLocked(update.getDeathCause(), after);
        if (onDead != null) {
          after.add(onDead);
          onDead = null;
        }
      } else if (stream != null && update.getNumRestarts() > streamInstance) {
        // A newer instance exists: the stream goes to a dead one, whatever it has said so far.
        retireStreamLocked(after);
      }
      if (!orphans.isEmpty() && update.getNumRestarts() > orphanInstance) {
        settleOrphansLocked(after);
      }
    }
    after.forEach(Runnable::run);
    pump();
  }

  /** Sends what can be sent: opens the stream to the live instance first if needed. */
  void pump() {
    List<TaskSpec> toSend = new ArrayList<>();
    CallStream to;
    long mark;
    ActorInfo openTo = null;
    long opening = 0;
    synchronized (this) {
      if (info == null || info.getState() != ActorState.ACTOR_STATE_ALIVE) {
        return;
      }
      if (stream == null && info.getNumRestarts() <= brokenInstance) {
        // Its stream broke: calls wait for the table to say what became of the instance.
        return;
      }
      if (stream == null) {
        openTo = info;
        opening = ++openings;
      }
    }
    if (openTo != null) {
      int instance = openTo.getNumRestarts();
      CallStream opened = connector.open(openTo, listenerFor(instance, opening));
      boolean keep;
      synchronized (this) {
        keep = stream == null && info.getNumRestarts() == instance && isAliveLocked();
        if (keep) {
          stream = opened;
          streamInstance = instance;
          streamOpening = opening;
          sentProcessedUpTo = -1;
        }
      }
      if (!keep) {
        opened.close();
      }
    }
    synchronized (this) {
      if (stream == null || !isAliveLocked()) {
        return;
      }
      toSend.addAll(book.takeReady());
      mark = book.processedUpTo();
      if (toSend.isEmpty() && mark == sentProcessedUpTo) {
        return;
      }
      sentProcessedUpTo = Math.max(sentProcessedUpTo, mark);
      to = stream;
    }
    to.send(toSend, mark);
  }

  /** Whether call {@code id} is one of this client's calls without an outcome. */
  synchronized boolean has(TaskId id) {
    return book.get(id) != null;
  }

  /** Number of calls without an outcome (for tests and diagnostics). */
  synchronized int numCalls() {
    return book.size();
  }

  private Listener listenerFor(int instance, long opening) {
    return new Listener() {
      @Override
      public void finished(TaskId id, PushTaskReply reply) {
        boolean mine;
        boolean markSkips = false;
        synchronized (ActorClient.this) {
          Call c = book.get(id);
          mine = c != null && c.sent && streamOpening == opening;
          if (mine) {
            book.remove(c);
            // The instance knows which calls it ran, not which numbers will never come (calls
            // cancelled or failed before they were sent): when the mark now passes such a number,
            // it must hear the new mark, or it holds the calls after the gap for ever.
            markSkips = book.processedUpTo() > c.seq + 1;
          }
        }
        if (mine) {
          outcomes.complete(id, reply);
        }
        if (markSkips) {
          pump();
        }
      }

      @Override
      public void broken(Throwable cause) {
        List<Runnable> after = new ArrayList<>();
        synchronized (ActorClient.this) {
          if (streamOpening != opening || stream == null) {
            // Not the stream in use: one retired, or one closed after losing a race to open.
            return;
          }
          retireStreamLocked(after);
          brokenInstance = Math.max(brokenInstance, instance);
          if (info != null
              && (info.getNumRestarts() > instance
                  || info.getState() == ActorState.ACTOR_STATE_DEAD)) {
            settleOrphansLocked(after);
          }
          // Otherwise the orphans wait for the table to say what became of the instance.
        }
        after.forEach(Runnable::run);
      }
    };
  }

  /** Closes the stream; its sent calls become orphans of its instance. */
  @GuardedBy("this")
  private void retireStreamLocked(List<Runnable> after) {
    if (stream == null) {
      return;
    }
    CallStream old = stream;
    stream = null;
    orphans.addAll(book.unsendAll());
    orphanInstance = streamInstance;
    after.add(old::close);
  }

  /**
   * The orphans' instance is gone: each fails as retriable, so the task manager sends it again to
   * the next instance if the actor's {@code maxTaskRetries} allow, and fails it otherwise.
   */
  @GuardedBy("this")
  private void settleOrphansLocked(List<Runnable> after) {
    List<Call> lost = new ArrayList<>(orphans);
    orphans.clear();
    ErrorInfo dead = deathCause();
    for (Call c : lost) {
      if (dead != null) {
        book.remove(c);
        after.add(() -> outcomes.fail(c.id, dead, false));
        continue;
      }
      ErrorInfo error = inFlightLost(c);
      after.add(
          () -> {
            outcomes.fail(c.id, error, true);
            if (!outcomes.isPending(c.id)) {
              forget(c);
            }
          });
    }
  }

  private void forget(Call c) {
    synchronized (this) {
      if (book.holds(c) && !c.sent) {
        book.remove(c);
      }
    }
  }

  @GuardedBy("this")
  private void failAllLocked(ErrorInfo cause, List<Runnable> after) {
    orphans.clear();
    for (TaskId id : book.clear()) {
      after.add(() -> outcomes.fail(id, cause, false));
    }
  }

  @GuardedBy("this")
  private boolean isAliveLocked() {
    return info != null && info.getState() == ActorState.ACTOR_STATE_ALIVE;
  }

  @GuardedBy("this")
  private ErrorInfo deathCause() {
    return info != null && info.getState() == ActorState.ACTOR_STATE_DEAD
        ? info.getDeathCause()
        : null;
  }

  @GuardedBy("this")
  private ErrorInfo inFlightLost(Call c) {
    return Errors.actorDied(
        ActorDiedException.Reason.PROCESS_DIED,
        "call "
            + c.id
            + " ("
            + c.spec.getDisplayName()
            + ") of actor "
            + describe()
            + " was running when the actor's process died; the actor restarted, and the call was"
            + " not run again (the actor's maxTaskRetries allows no more retries)",
        null);
  }

  @GuardedBy("this")
  private String describe() {
    String name = info == null || info.getName().isEmpty() ? "" : " '" + info.getName() + "'";
    String cls = info == null ? "" : info.getClassName() + " ";
    return cls + actorId + name;
  }
}
