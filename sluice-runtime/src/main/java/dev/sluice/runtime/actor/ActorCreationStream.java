package dev.sluice.runtime.actor;

import dev.sluice.ActorDiedException;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.ActorDiedReason;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The creator's task stream to an actor's worker: carries the creation task and stays open for the
 * instance's life, so that the worker of an {@code OWNED} actor learns of its creator's death when
 * the stream breaks (DESIGN "Actors", lifetimes). The control service opens one too when it
 * constructs a detached actor itself ({@code control.HeadActorCreator}).
 *
 * <p>Threads: the reply arrives on a transport thread; {@link #close} may be called from any.
 */
public final class ActorCreationStream {
  private static final Logger log = LoggerFactory.getLogger(ActorCreationStream.class);

  private final StreamObserver<PushTaskBatch> requests;
  private final CompletableFuture<PushTaskReply> reply = new CompletableFuture<>();
  private boolean closed;

  /** Opens the stream to the leased worker and pushes {@code creation} on it. */
  public ActorCreationStream(ChannelPool channels, LeaseReply grant, TaskSpec creation) {
    // Opened in no caller's context: the stream lives as long as the instance, whatever call or
    // task was running when the lease came back.
    Context previous = Context.ROOT.attach();
    try {
      requests =
          CoreWorkerServiceGrpc.newStub(channels.get(grant.getWorker()))
              .pushTasks(
                  new StreamObserver<TaskResultBatch>() {
                    @Override
                    public void onNext(TaskResultBatch batch) {
                      for (TaskResult r : batch.getResultsList()) {
                        reply.complete(r.getReply());
                      }
                    }

                    @Override
                    public void onError(Throwable t) {
                      reply.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                      reply.completeExceptionally(
                          new IllegalStateException(
                              "the actor's worker closed its creation stream"));
                    }
                  });
    } finally {
      Context.ROOT.detach(previous);
    }
    synchronized (this) {
      requests.onNext(
          PushTaskBatch.newBuilder()
              .addTasks(
                  PushTaskRequest.newBuilder()
                      .setSpec(creation)
                      .setIntendedWorkerId(grant.getWorker().getWorkerId())
                      .setLeaseId(grant.getLeaseId()))
              .build());
    }
  }

  /** The creation task's reply; fails if the worker died before answering. */
  public CompletableFuture<PushTaskReply> reply() {
    return reply;
  }

  /**
   * What a creation task's {@code reply} means: null when the instance was constructed, otherwise
   * the actor's death cause ({@code ACTOR_DIED}: {@code CONSTRUCTOR_FAILED} with the constructor's
   * exception when it threw, {@code CREATION_FAILED} when it could not run), naming actor {@code
   * actor}.
   */
  public static ErrorInfo failure(PushTaskReply reply, String actor) {
    if (reply.getReturnsCount() == 0 || !reply.getReturns(0).getValue().hasError()) {
      return null;
    }
    ErrorInfo failure = reply.getReturns(0).getValue().getError();
    return reply.getIsApplicationError()
        ? failure.toBuilder()
            .setType(ErrorType.ACTOR_DIED)
            .setActorDiedReason(ActorDiedReason.CONSTRUCTOR_FAILED)
            .setMessage("the constructor of actor " + actor + " threw: " + failure.getMessage())
            .build()
        : Errors.actorDied(
            ActorDiedException.Reason.CREATION_FAILED,
            "actor " + actor + " could not be created: " + failure.getMessage(),
            null);
  }

  /** Closes the stream (the creator is stopping, or the instance is gone). */
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      requests.onCompleted();
    } catch (RuntimeException e) {
      log.debug("closing an actor creation stream failed: {}", e.toString());
    }
  }
}
