package dev.sluice.runtime.actor;

import com.google.protobuf.ByteString;
import dev.sluice.TaskId;
import dev.sluice.runtime.owner.TaskManager;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A caller's task stream to one instance of an actor ({@code CoreWorkerService.PushTasks}, the same
 * stream a lease uses): pushes calls with the caller's processed-up-to mark, and in-band cancels
 * and generator report replies; hands finished calls to its {@link ActorClient.Listener} and
 * generator reports to the task manager, answering them on this stream.
 *
 * <p>Threads: sends are serialized by this object's monitor; results arrive on a transport thread.
 */
final class ActorCallStream implements ActorClient.CallStream {
  private static final Logger log = LoggerFactory.getLogger(ActorCallStream.class);

  private final StreamObserver<PushTaskBatch> requests;
  private final ByteString workerId;
  private boolean closed;

  private ActorCallStream(
      ChannelPool channels,
      ActorInfo alive,
      TaskManager taskManager,
      ActorClient.Listener listener) {
    this.workerId = alive.getAddress().getWorkerId();
    // Opened in no caller's context: the stream outlives the call or task that first used it.
    Context previous = Context.ROOT.attach();
    try {
      this.requests =
          CoreWorkerServiceGrpc.newStub(channels.get(alive.getAddress()))
              .pushTasks(results(taskManager, listener));
    } finally {
      Context.ROOT.detach(previous);
    }
  }

  /** The connector that opens streams over {@code channels}. */
  static ActorClient.Connector connector(ChannelPool channels, TaskManager taskManager) {
    return (alive, listener) -> new ActorCallStream(channels, alive, taskManager, listener);
  }

  @Override
  public void send(List<TaskSpec> calls, long processedUpTo) {
    PushTaskBatch.Builder b = PushTaskBatch.newBuilder().setCallerProcessedUpTo(processedUpTo);
    for (TaskSpec spec : calls) {
      b.addTasks(PushTaskRequest.newBuilder().setSpec(spec).setIntendedWorkerId(workerId));
    }
    sendQuietly(b.build());
  }

  @Override
  public void cancel(TaskId id) {
    sendQuietly(
        PushTaskBatch.newBuilder().addCancelTaskIds(ByteString.copyFrom(id.toBytes())).build());
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      try {
        requests.onCompleted();
      } catch (RuntimeException e) {
        log.debug("closing an actor call stream failed: {}", e.toString());
      }
    }
  }

  private void sendQuietly(PushTaskBatch batch) {
    synchronized (this) {
      if (closed) {
        return;
      }
      try {
        requests.onNext(batch);
      } catch (RuntimeException e) {
        log.debug("message not sent (actor call stream closed): {}", e.toString());
      }
    }
  }

  private StreamObserver<TaskResultBatch> results(
      TaskManager taskManager, ActorClient.Listener listener) {
    return new StreamObserver<>() {
      @Override
      public void onNext(TaskResultBatch batch) {
        taskManager.handleReports(batch.getReportsList(), ActorCallStream.this::sendQuietly);
        for (TaskResult r : batch.getResultsList()) {
          listener.finished(TaskId.fromBytes(r.getTaskId().toByteArray()), r.getReply());
        }
      }

      @Override
      public void onError(Throwable t) {
        listener.broken(t);
      }

      @Override
      public void onCompleted() {
        listener.broken(new IllegalStateException("the actor's worker closed the call stream"));
      }
    };
  }
}
