package dev.sluice.runtime.owner;

import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.metrics.SluiceMetrics.Side;
import dev.sluice.runtime.metrics.SluiceMetrics.TaskState;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import io.micrometer.core.instrument.Counter;

/**
 * The owner's task and stream counters (README "Metrics"), resolved once from the process's {@link
 * SluiceMetrics} so that counting an outcome is one striped add. A run that rebuilds lost outputs
 * was never submitted by the user and is not counted.
 *
 * <p>Threads: thread-safe (Micrometer counters).
 */
final class TaskCounters {
  final Counter submitted;
  final Counter retried;
  final Counter consumed;
  private final Counter finished;
  private final Counter failed;
  private final Counter cancelled;

  TaskCounters(SluiceMetrics metrics) {
    this.submitted = metrics.tasks(TaskState.SUBMITTED);
    this.retried = metrics.tasks(TaskState.RETRIED);
    this.finished = metrics.tasks(TaskState.FINISHED);
    this.failed = metrics.tasks(TaskState.FAILED);
    this.cancelled = metrics.tasks(TaskState.CANCELLED);
    this.consumed = metrics.streamItems(Side.CONSUMED);
  }

  /** A task's final reply was stored: its values, or the error its code threw. */
  void finished(boolean rebuild, boolean applicationError) {
    if (!rebuild) {
      (applicationError ? failed : finished).increment();
    }
  }

  /** A task failed for good with {@code error}: cancelled, or failed. */
  void failed(boolean rebuild, ErrorInfo error) {
    if (!rebuild) {
      (error.getType() == ErrorType.TASK_CANCELLED ? cancelled : failed).increment();
    }
  }
}
