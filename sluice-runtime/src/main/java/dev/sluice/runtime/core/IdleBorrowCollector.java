package dev.sluice.runtime.core;

import dev.sluice.runtime.executor.TaskReceiver;
import dev.sluice.runtime.owner.ReferenceCounter;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's idle garbage collection (DESIGN "Reference counting"): in an idle worker that still
 * borrows objects, runs a garbage collection, because refs the finished tasks dropped are only
 * released (and their owners told) when the collector finds them, and an idle worker's heap may not
 * fill for a long time. At most once per period, and never while a task runs. It owns the count of
 * finished tasks at the last collection.
 *
 * <p>Threads: runs on the core worker's timer thread only.
 */
final class IdleBorrowCollector {

  private static final Logger log = LoggerFactory.getLogger(IdleBorrowCollector.class);
  private static final Duration PERIOD = Duration.ofSeconds(2);

  private final TaskReceiver receiver;
  private final ReferenceCounter refs;
  private final BooleanSupplier shutdown;

  /** Timer thread only: tasks finished when the idle collection last ran. */
  private long tasksAtLastIdleGc = -1;

  IdleBorrowCollector(TaskReceiver receiver, ReferenceCounter refs, BooleanSupplier shutdown) {
    this.receiver = receiver;
    this.refs = refs;
    this.shutdown = shutdown;
  }

  /** Runs the check on {@code timers} every period. */
  void scheduleOn(ScheduledExecutorService timers) {
    timers.scheduleWithFixedDelay(
        this::collectIdleBorrows, PERIOD.toMillis(), PERIOD.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void collectIdleBorrows() {
    long finished = receiver.finishedTasks();
    if (shutdown.getAsBoolean()
        || !receiver.isIdle()
        || refs.numBorrowed() == 0
        || finished == tasksAtLastIdleGc) {
      return;
    }
    tasksAtLastIdleGc = finished;
    int before = refs.numBorrowed();
    System.gc();
    log.debug("idle worker collected garbage: {} borrowed objects before", before);
  }
}
