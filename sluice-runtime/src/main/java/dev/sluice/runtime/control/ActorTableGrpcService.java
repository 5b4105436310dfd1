package dev.sluice.runtime.control;

import com.google.protobuf.ByteString;
import dev.sluice.ActorDiedException;
import dev.sluice.ActorId;
import dev.sluice.ActorLifetime;
import dev.sluice.WorkerId;
import dev.sluice.runtime.common.ActorLifetimes;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.ActorState;
import dev.sluice.runtime.rpc.proto.ActorWorkerDiedReply;
import dev.sluice.runtime.rpc.proto.ActorWorkerDiedRequest;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ExitActorReply;
import dev.sluice.runtime.rpc.proto.ExitActorRequest;
import dev.sluice.runtime.rpc.proto.GetActorReply;
import dev.sluice.runtime.rpc.proto.GetActorRequest;
import dev.sluice.runtime.rpc.proto.KillActorReply;
import dev.sluice.runtime.rpc.proto.KillActorRequest;
import dev.sluice.runtime.rpc.proto.RegisterActorReply;
import dev.sluice.runtime.rpc.proto.RegisterActorRequest;
import dev.sluice.runtime.rpc.proto.UpdateActorReply;
import dev.sluice.runtime.rpc.proto.UpdateActorRequest;
import dev.sluice.runtime.rpc.proto.WatchActorRequest;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The actor table's RPCs of the control service (DESIGN "Actors"): converts between the wire's
 * {@link ActorInfo} and the table's {@link ActorEntry}, and tells a killed actor's worker to exit.
 * {@link ControlGrpcService} hands these calls here.
 *
 * <p>Threads: transport threads; the table is thread-safe and calls watchers off its lock.
 */
final class ActorTableGrpcService {
  private static final Logger log = LoggerFactory.getLogger(ActorTableGrpcService.class);

  private final ActorTable table;
  private final HeadActorCreator headCreator;
  private final Function<String, Channel> channels;

  ActorTableGrpcService(
      ActorTable table, HeadActorCreator headCreator, Function<String, Channel> channels) {
    this.table = table;
    this.headCreator = headCreator;
    this.channels = channels;
  }

  void registerActor(RegisterActorRequest req, StreamObserver<RegisterActorReply> out) {
    ActorInfo a = req.getActor();
    ActorEntry requested =
        ActorEntry.pending(
            actorId(a.getActorId()),
            a.getName(),
            a.getClassName(),
            address(a.getOwner()),
            ActorLifetimes.fromWire(a.getLifetimeValue()),
            a.getMaxRestarts(),
            a.getMaxTaskRetries(),
            a.getMaxConcurrency());
    // A detached actor's creation spec lets the head construct it once its creator is gone.
    boolean keepSpec = req.hasCreation() && requested.lifetime() == ActorLifetime.DETACHED;
    RegisterActorReply.Builder reply = RegisterActorReply.newBuilder();
    ActorTable.RegisterResult result = table.register(requested, keepSpec);
    if (result instanceof ActorTable.NameTaken taken) {
      reply.setNameTaken(true).setHolder(info(taken.holder()));
    } else if (keepSpec) {
      headCreator.keep(requested.id(), req.getCreation(), req.getLease());
    }
    answer(out, reply.build());
  }

  void updateActor(UpdateActorRequest req, StreamObserver<UpdateActorReply> out) {
    ActorId id = actorId(req.getActorId());
    if (req.getState() == ActorState.ACTOR_STATE_ALIVE) {
      table.created(id, req.getNumRestarts(), address(req.getAddress()));
    } else if (req.getState() == ActorState.ACTOR_STATE_DEAD
        && Errors.actorDiedReason(req.getDeathCause()) == ActorDiedException.Reason.OWNER_DIED) {
      // The actor's worker saw its creator's stream end.
      table.creatorLost(id);
    } else if (req.getState() == ActorState.ACTOR_STATE_DEAD) {
      ErrorInfo cause = req.getDeathCause();
      table.creationFailed(
          id,
          req.getNumRestarts(),
          Errors.actorDiedReason(cause),
          null,
          cause.getMessage(),
          cause.getSerializedException().isEmpty()
              ? null
              : cause.getSerializedException().toByteArray());
    }
    Optional<ActorEntry> now = table.get(id);
    if (now.isEmpty()) {
      out.onError(Status.NOT_FOUND.withDescription("unknown actor " + id).asRuntimeException());
      return;
    }
    answer(out, UpdateActorReply.newBuilder().setActor(info(now.get())).build());
  }

  void getActor(GetActorRequest req, StreamObserver<GetActorReply> out) {
    Optional<ActorEntry> found =
        req.getActorId().isEmpty()
            ? table.getByName(req.getName())
            : table.get(actorId(req.getActorId()));
    GetActorReply.Builder reply = GetActorReply.newBuilder().setFound(found.isPresent());
    found.ifPresent(e -> reply.setActor(info(e)));
    answer(out, reply.build());
  }

  void watchActor(WatchActorRequest req, StreamObserver<ActorInfo> out) {
    ActorId id = actorId(req.getActorId());
    ServerCallStreamObserver<ActorInfo> call = (ServerCallStreamObserver<ActorInfo>) out;
    Optional<ActorWatch> watch =
        table.watch(
            id,
            entry -> {
              synchronized (call) {
                if (call.isCancelled()) {
                  return;
                }
                call.onNext(info(entry));
                if (entry.state() == ActorEntry.State.DEAD) {
                  call.onCompleted();
                }
              }
            });
    if (watch.isEmpty()) {
      out.onError(Status.NOT_FOUND.withDescription("unknown actor " + id).asRuntimeException());
      return;
    }
    call.setOnCancelHandler(() -> watch.get().cancel());
  }

  void killActor(KillActorRequest req, StreamObserver<KillActorReply> out) {
    ActorId id = actorId(req.getActorId());
    Optional<ActorTable.Update> killed = table.kill(id);
    if (killed.isEmpty()) {
      out.onError(Status.NOT_FOUND.withDescription("unknown actor " + id).asRuntimeException());
      return;
    }
    ActorEntry e = killed.get().entry();
    answer(out, KillActorReply.newBuilder().setActor(info(e)).build());
    if (killed.get().changed() && e.address() != null) {
      WorkerAddress w = e.address();
      log.info("killing actor {} on node {}: Sluice.kill", id, w.nodeId());
      // Not in this call's context: it is cancelled once the reply above is sent.
      Context.ROOT.run(
          () -> {
            CoreWorkerServiceGrpc.newStub(channels.apply(w.host() + ":" + w.port()))
                .exitActor(
                    ExitActorRequest.newBuilder()
                        .setActorId(req.getActorId())
                        .setReason("Sluice.kill")
                        .build(),
                    new StreamObserver<>() {
                      @Override
                      public void onNext(ExitActorReply reply) {}

                      @Override
                      public void onError(Throwable t) {
                        log.warn(
                            "could not tell the worker of killed actor {} ({}) to exit: {}",
                            id,
                            w,
                            t.toString());
                      }

                      @Override
                      public void onCompleted() {}
                    });
          });
    }
  }

  void reportActorWorkerDied(ActorWorkerDiedRequest req, StreamObserver<ActorWorkerDiedReply> out) {
    table.workerDied(
        actorId(req.getActorId()),
        WorkerId.fromBytes(req.getWorkerId().toByteArray()),
        null,
        req.getDetail());
    answer(out, ActorWorkerDiedReply.getDefaultInstance());
  }

  /** The wire form of an entry. */
  static ActorInfo info(ActorEntry e) {
    ActorInfo.Builder b =
        ActorInfo.newBuilder()
            .setActorId(ByteString.copyFrom(e.id().toBytes()))
            .setName(e.name())
            .setClassName(e.className())
            .setState(
                switch (e.state()) {
                  case PENDING -> ActorState.ACTOR_STATE_PENDING;
                  case ALIVE -> ActorState.ACTOR_STATE_ALIVE;
                  case RESTARTING -> ActorState.ACTOR_STATE_RESTARTING;
                  case DEAD -> ActorState.ACTOR_STATE_DEAD;
                })
            .setOwner(wire(e.owner()))
            .setLifetimeValue(ActorLifetimes.toWire(e.lifetime()))
            .setNumRestarts(e.numRestarts())
            .setMaxRestarts(e.maxRestarts())
            .setMaxTaskRetries(e.maxTaskRetries())
            .setMaxConcurrency(e.maxConcurrency())
            .setVersion(e.version());
    if (e.address() != null) {
      b.setAddress(wire(e.address()));
    }
    if (e.nodeId() != null) {
      b.setNodeId(ByteString.copyFrom(e.nodeId().toBytes()));
    }
    if (e.death() != null) {
      ActorDeath d = e.death();
      ErrorInfo.Builder cause = Errors.actorDied(d.reason(), d.message(), null).toBuilder();
      if (d.hasCause()) {
        cause.setSerializedException(ByteString.copyFrom(d.serializedCause()));
      }
      b.setDeathCause(cause);
    }
    return b.build();
  }

  private static Address wire(WorkerAddress w) {
    return Addresses.of(w.workerId(), w.nodeId(), w.host(), w.port());
  }

  /** The domain form of a process's wire address. */
  static WorkerAddress address(Address a) {
    return new WorkerAddress(Addresses.workerId(a), Addresses.nodeId(a), a.getHost(), a.getPort());
  }

  private static ActorId actorId(ByteString bytes) {
    return ActorId.fromBytes(bytes.toByteArray());
  }

  private static <T> void answer(StreamObserver<T> out, T reply) {
    out.onNext(reply);
    out.onCompleted();
  }
}
