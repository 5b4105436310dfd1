package dev.sluice.runtime.core;

import dev.sluice.runtime.common.TaskContext;

/**
 * Which task the calling thread runs as: the task set by the executor on its thread, else (in a
 * driver) the driver's own context. The current task is an inheritable thread-local, so threads a
 * task starts submit as that task (their children get ids derived from it).
 *
 * <p>Threads: any thread; each sees its own (or its creator's inherited) value.
 */
final class CurrentTask {
  private final InheritableThreadLocal<TaskContext> current = new InheritableThreadLocal<>();

  /** The driver's context; null in workers, where only task threads run as a task. */
  private final TaskContext driverContext;

  CurrentTask(TaskContext driverContext) {
    this.driverContext = driverContext;
  }

  /** The task the calling thread runs, or null (a driver's own threads, idle worker threads). */
  TaskContext get() {
    return current.get();
  }

  /** Makes {@code ctx} the current task of the calling thread (null clears it). */
  void set(TaskContext ctx) {
    if (ctx == null) {
      current.remove();
    } else {
      current.set(ctx);
    }
  }

  /**
   * The context new tasks and objects of the calling thread belong to: its task, else the driver's.
   *
   * @throws IllegalStateException in a worker thread that runs no task
   */
  TaskContext context() {
    TaskContext ctx = current.get();
    if (ctx != null) {
      return ctx;
    }
    if (driverContext != null) {
      return driverContext;
    }
    throw new IllegalStateException("this worker thread is not running a Sluice task");
  }
}
