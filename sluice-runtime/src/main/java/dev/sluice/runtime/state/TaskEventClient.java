package dev.sluice.runtime.state;

import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.TaskEventBatch;
import io.grpc.Channel;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Sends a process's task event batches to the control service ({@code ReportTaskEvents}): the
 * {@link TaskEventSender} of {@link TaskEvents} in drivers and workers.
 *
 * <p>Thread-safe; called on the reporter thread, where it blocks for the answer (with a deadline).
 */
public final class TaskEventClient implements TaskEventSender {
  private static final long DEADLINE_SECONDS = 10;

  private final Supplier<Channel> channel;

  /** A client reaching the control service through {@code channel} (asked on every send). */
  public TaskEventClient(Supplier<Channel> channel) {
    this.channel = channel;
  }

  @Override
  public boolean send(TaskEventBatch batch) {
    return !ControlServiceGrpc.newBlockingStub(channel.get())
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
        .reportTaskEvents(batch)
        .getDisabled();
  }
}
