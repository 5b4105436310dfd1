package dev.sluice.runtime.actor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler the test drives: {@link #schedule} only records the task and its delay; {@link
 * #runDue} runs what was recorded, on the test's thread. Periodic scheduling is not supported.
 */
final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {
  private final List<Task> queued = new ArrayList<>();
  private final List<Long> delaysMillis = new ArrayList<>();
  private boolean shutdown;

  private static final class Task extends FutureTask<Void> implements ScheduledFuture<Void> {
    private final long delayMillis;

    Task(Runnable r, long delayMillis) {
      super(r, null);
      this.delayMillis = delayMillis;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(delayMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.MILLISECONDS), o.getDelay(TimeUnit.MILLISECONDS));
    }
  }

  @Override
  public synchronized ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    if (shutdown) {
      throw new RejectedExecutionException("shut down");
    }
    Task t = new Task(command, unit.toMillis(delay));
    queued.add(t);
    delaysMillis.add(unit.toMillis(delay));
    return t;
  }

  /** Runs every task scheduled so far (not those they schedule); returns how many ran. */
  int runDue() {
    List<Task> now;
    synchronized (this) {
      now = new ArrayList<>(queued);
      queued.clear();
    }
    now.forEach(FutureTask::run);
    return now.size();
  }

  synchronized int numQueued() {
    return queued.size();
  }

  /** The delay of every task ever scheduled, in order. */
  synchronized List<Long> delaysMillis() {
    return List.copyOf(delaysMillis);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void execute(Runnable command) {
    command.run();
  }

  @Override
  public synchronized void shutdown() {
    shutdown = true;
  }

  @Override
  public synchronized List<Runnable> shutdownNow() {
    shutdown = true;
    List<Runnable> out = new ArrayList<>(queued);
    queued.clear();
    return out;
  }

  @Override
  public synchronized boolean isShutdown() {
    return shutdown;
  }

  @Override
  public synchronized boolean isTerminated() {
    return shutdown;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return true;
  }
}
