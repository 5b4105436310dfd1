package dev.sluice.runtime.state;

import dev.sluice.runtime.rpc.proto.TaskEventBatch;

/** Where a {@link TaskEvents} reporter sends its batches: the control service. */
public interface TaskEventSender {
  /**
   * Sends one batch and waits for the answer.
   *
   * @return false if the cluster keeps no task events (the process then stops recording them)
   * @throws RuntimeException if the batch could not be delivered
   */
  boolean send(TaskEventBatch batch);
}
