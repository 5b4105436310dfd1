package dev.sluice.runtime.owner;

import dev.sluice.TaskId;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An owner's cancellation policy: a running task is interrupted first and, if it has not stopped
 * within the grace period, the worker running it is killed (at once with {@code force}). A task
 * that ignores interruption therefore still ends, its CPU comes back to its node, and it is never
 * retried (the task manager keeps a cancelled task from retrying).
 *
 * <p>Owns only the grace-period timers, which run on the core worker's timer thread; {@link
 * #cancel} runs on the caller's thread. The lease bookkeeping stays in {@link NormalTaskSubmitter},
 * whose monitors guard it.
 */
public final class TaskCanceller {
  private final TaskManager taskManager;
  private final NormalTaskSubmitter submitter;
  private final ScheduledExecutorService timers;
  private final Duration gracePeriod;

  /** A canceller whose tasks get {@code gracePeriod} to stop after an interrupt. */
  public TaskCanceller(
      TaskManager taskManager,
      NormalTaskSubmitter submitter,
      ScheduledExecutorService timers,
      Duration gracePeriod) {
    this.taskManager = taskManager;
    this.submitter = submitter;
    this.timers = timers;
    this.gracePeriod = gracePeriod;
  }

  /** Cancels task {@code id} of this owner, unless it already finished. */
  public void cancel(TaskId id, boolean force) {
    if (!taskManager.markCancelled(id) || !submitter.cancel(id)) {
      return; // finished, or not on a worker (it failed or will fail without running)
    }
    if (force) {
      submitter.killWorkerRunning(id, "force was set");
      return;
    }
    String why = "did not stop within its grace period of " + gracePeriod.toMillis() + " ms";
    try {
      timers.schedule(
          () -> {
            if (taskManager.isPending(id)) {
              submitter.killWorkerRunning(id, why);
            }
          },
          gracePeriod.toNanos(),
          TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // shutting down: every worker goes anyway
    }
  }
}
