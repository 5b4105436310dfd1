package dev.sluice.runtime.actor;

import dev.sluice.ActorId;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.RegisterActorRequest;
import dev.sluice.runtime.rpc.proto.UpdateActorRequest;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The control service's actor table as this process reaches it (DESIGN "Actors"); implemented over
 * gRPC by {@link GrpcActorTableClient}, by fakes in tests. Blocking calls are short control RPCs.
 */
public interface ActorTableClient {

  /** The table does not know the actor a watch asked for. */
  final class UnknownActorException extends RuntimeException {
    public UnknownActorException(String message) {
      super(message);
    }
  }

  /**
   * Registers a new actor (with, for a {@code DETACHED} one, its creation spec for the control
   * service to keep); empty if registered, or the live actor already holding its name.
   */
  Optional<ActorInfo> register(RegisterActorRequest request);

  /** Reports a creation's outcome; returns the entry after it. */
  ActorInfo update(UpdateActorRequest update);

  Optional<ActorInfo> get(ActorId id);

  /** The live actor named {@code name}. */
  Optional<ActorInfo> getByName(String name);

  /** Kills the actor for good; returns its (dead) entry. */
  ActorInfo kill(ActorId id);

  /**
   * Streams the entry now and every change after it to {@code onInfo}, ending after the dead entry;
   * {@code onEnd} gets why a watch ended early (null after a dead entry is not called). Returns an
   * action that ends the watch (its {@code onEnd} may then be told it was cancelled).
   */
  Runnable watch(ActorId id, Consumer<ActorInfo> onInfo, Consumer<Throwable> onEnd);
}
