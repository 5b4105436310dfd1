package dev.sluice.runtime.actor;

import com.google.protobuf.ByteString;
import dev.sluice.ActorId;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.ActorState;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.GetActorReply;
import dev.sluice.runtime.rpc.proto.GetActorRequest;
import dev.sluice.runtime.rpc.proto.KillActorRequest;
import dev.sluice.runtime.rpc.proto.RegisterActorReply;
import dev.sluice.runtime.rpc.proto.RegisterActorRequest;
import dev.sluice.runtime.rpc.proto.UpdateActorRequest;
import dev.sluice.runtime.rpc.proto.WatchActorRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@link ActorTableClient} over the control service's actor RPCs. Unary calls block the caller for
 * at most {@link #DEADLINE_SECONDS}; watches are server streams whose messages arrive on transport
 * threads.
 */
public final class GrpcActorTableClient implements ActorTableClient {
  private static final long DEADLINE_SECONDS = 30;

  private final ChannelPool channels;
  private final String controlTarget;

  public GrpcActorTableClient(ChannelPool channels, String controlTarget) {
    this.channels = channels;
    this.controlTarget = controlTarget;
  }

  private ControlServiceGrpc.ControlServiceBlockingStub blocking() {
    return ControlServiceGrpc.newBlockingStub(channels.get(controlTarget))
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public Optional<ActorInfo> register(RegisterActorRequest request) {
    RegisterActorReply r = blocking().registerActor(request);
    return r.getNameTaken() ? Optional.of(r.getHolder()) : Optional.empty();
  }

  @Override
  public ActorInfo update(UpdateActorRequest update) {
    return blocking().updateActor(update).getActor();
  }

  @Override
  public Optional<ActorInfo> get(ActorId id) {
    GetActorReply r =
        blocking()
            .getActor(
                GetActorRequest.newBuilder().setActorId(ByteString.copyFrom(id.toBytes())).build());
    return r.getFound() ? Optional.of(r.getActor()) : Optional.empty();
  }

  @Override
  public Optional<ActorInfo> getByName(String name) {
    GetActorReply r = blocking().getActor(GetActorRequest.newBuilder().setName(name).build());
    return r.getFound() ? Optional.of(r.getActor()) : Optional.empty();
  }

  @Override
  public ActorInfo kill(ActorId id) {
    return blocking()
        .killActor(
            KillActorRequest.newBuilder().setActorId(ByteString.copyFrom(id.toBytes())).build())
        .getActor();
  }

  @Override
  public Runnable watch(ActorId id, Consumer<ActorInfo> onInfo, Consumer<Throwable> onEnd) {
    // In no caller's context: the watch lasts until the actor is dead, or until it is cancelled.
    Context.CancellableContext watching = Context.ROOT.withCancellation();
    Context previous = watching.attach();
    try {
      watchInRoot(id, onInfo, onEnd);
    } finally {
      watching.detach(previous);
    }
    return () -> watching.cancel(null);
  }

  private void watchInRoot(ActorId id, Consumer<ActorInfo> onInfo, Consumer<Throwable> onEnd) {
    ControlServiceGrpc.newStub(channels.get(controlTarget))
        .watchActor(
            WatchActorRequest.newBuilder().setActorId(ByteString.copyFrom(id.toBytes())).build(),
            new StreamObserver<>() {
              private boolean dead;

              @Override
              public void onNext(ActorInfo info) {
                dead |= info.getState() == ActorState.ACTOR_STATE_DEAD;
                onInfo.accept(info);
              }

              @Override
              public void onError(Throwable t) {
                if (Status.fromThrowable(t).getCode() == Status.Code.NOT_FOUND) {
                  onEnd.accept(new UnknownActorException(t.getMessage()));
                } else {
                  onEnd.accept(t);
                }
              }

              @Override
              public void onCompleted() {
                if (!dead) {
                  onEnd.accept(
                      new IllegalStateException("actor watch ended before the actor died"));
                }
              }
            });
  }
}
