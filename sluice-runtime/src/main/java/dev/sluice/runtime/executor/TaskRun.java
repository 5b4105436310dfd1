package dev.sluice.runtime.executor;

import dev.sluice.TaskId;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import java.util.concurrent.CompletableFuture;

/**
 * One run of a task in this worker, as {@link TaskReceiver} tracks it: a task pushed on a lease's
 * {@link TaskStream}, or a task of this process's own submission run inline by its blocked owner
 * (then its reply goes to {@link #inlineReply}).
 *
 * <p>Threads: created on a transport thread (pushed) or the blocked owner's thread (inline); {@link
 * #cancelled} and {@link #thread} are read and written from any thread.
 */
final class TaskRun {
  final PushTaskRequest request;

  /** The lease's task stream it came on; null for a task run inline by its owner. */
  final TaskStream stream;

  /** Where an inline task's reply goes; null for a pushed task. */
  final CompletableFuture<PushTaskReply> inlineReply;

  final TaskId taskId;
  volatile boolean cancelled;

  /** The thread running it, once it runs. */
  volatile Thread thread;

  TaskRun(PushTaskRequest request, TaskStream stream) {
    this(request, stream, null);
  }

  TaskRun(
      PushTaskRequest request, TaskStream stream, CompletableFuture<PushTaskReply> inlineReply) {
    this.request = request;
    this.stream = stream;
    this.inlineReply = inlineReply;
    this.taskId = TaskId.fromBytes(request.getSpec().getTaskId().toByteArray());
  }

  /** Marks it cancelled and interrupts its thread if it runs. */
  void cancel() {
    cancelled = true;
    interrupt();
  }

  /** Interrupts its thread if it runs. */
  void interrupt() {
    Thread t = thread;
    if (t != null) {
      t.interrupt();
    }
  }
}
