package dev.sluice.runtime.control;

import dev.sluice.ActorId;
import dev.sluice.ActorLifetime;
import dev.sluice.NodeId;
import java.util.Objects;

/**
 * One actor's entry in the {@link ActorTable}, as of one {@link #version()}: the domain form of the
 * wire {@code ActorInfo}. Immutable; the table replaces an entry whole on every change. Make a new
 * one with {@link #pending} and {@link ActorTable#register} it.
 *
 * @param id the actor
 * @param name its name, unique among live actors, or {@code ""} for none
 * @param className the actor's class, for messages
 * @param state its state (the actor lifecycle rule)
 * @param address the worker hosting its instance: set when the instance becomes {@code ALIVE},
 *     cleared when a restart begins; a {@code DEAD} entry keeps the address of the instance that
 *     was alive when it died (so that a kill can tell that worker to exit), null otherwise
 * @param owner the creator's process
 * @param lifetime {@code OWNED} (dies with its creator) or {@code DETACHED}
 * @param numRestarts how many times it restarted: the number of its current instance (0 first)
 * @param maxRestarts restarts allowed, -1 unlimited
 * @param maxTaskRetries retries of a call in flight when its instance died, -1 unlimited
 * @param maxConcurrency calls run at once
 * @param death why it died, when {@code DEAD}; null otherwise
 * @param version increases by one with every change, from 1 at registration
 * @param nodeId the node of the latest instance that started, null before the first did
 */
public record ActorEntry(
    ActorId id,
    String name,
    String className,
    State state,
    WorkerAddress address,
    WorkerAddress owner,
    ActorLifetime lifetime,
    int numRestarts,
    int maxRestarts,
    int maxTaskRetries,
    int maxConcurrency,
    ActorDeath death,
    long version,
    NodeId nodeId) {

  /** An actor's state (DESIGN "Actors", the actor lifecycle rule). */
  public enum State {
    /** Registered; being placed or constructed, the first time. */
    PENDING,
    /** Its instance runs at {@link #address()}. */
    ALIVE,
    /** Its worker died and a new instance is being placed or constructed. */
    RESTARTING,
    /** Final: {@link #death()} says why. */
    DEAD
  }

  /** Checks the parts that are always present, and that a dead entry says why. */
  public ActorEntry {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(className, "className");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(lifetime, "lifetime");
    if ((state == State.DEAD) != (death != null)) {
      throw new IllegalArgumentException("a death cause is given exactly when DEAD, not " + state);
    }
  }

  /** A new actor's entry, {@code PENDING}, as the creator registers it. */
  public static ActorEntry pending(
      ActorId id,
      String name,
      String className,
      WorkerAddress owner,
      ActorLifetime lifetime,
      int maxRestarts,
      int maxTaskRetries,
      int maxConcurrency) {
    return new ActorEntry(
        id,
        name == null ? "" : name,
        className,
        State.PENDING,
        null,
        owner,
        lifetime,
        0,
        maxRestarts,
        maxTaskRetries,
        maxConcurrency,
        null,
        1,
        null);
  }

  /** Whether the actor is not {@code DEAD} (so it holds its name). */
  public boolean isLive() {
    return state != State.DEAD;
  }

  /** Whether it has a name. */
  public boolean hasName() {
    return !name.isEmpty();
  }

  /** Whether a worker death now would leave a restart (ignoring whether its creator lives). */
  boolean hasRestartsLeft() {
    return maxRestarts < 0 || numRestarts < maxRestarts;
  }

  /** This entry {@code ALIVE} at {@code at}, one version on. */
  ActorEntry alive(WorkerAddress at) {
    return new ActorEntry(
        id,
        name,
        className,
        State.ALIVE,
        at,
        owner,
        lifetime,
        numRestarts,
        maxRestarts,
        maxTaskRetries,
        maxConcurrency,
        null,
        version + 1,
        at.nodeId());
  }

  /** This entry {@code RESTARTING} as its next instance, one version on. */
  ActorEntry restarting() {
    return new ActorEntry(
        id,
        name,
        className,
        State.RESTARTING,
        null,
        owner,
        lifetime,
        numRestarts + 1,
        maxRestarts,
        maxTaskRetries,
        maxConcurrency,
        null,
        version + 1,
        nodeId);
  }

  /** This entry {@code DEAD} for {@code why}, one version on (the address kept only if alive). */
  ActorEntry dead(ActorDeath why) {
    return new ActorEntry(
        id,
        name,
        className,
        State.DEAD,
        state == State.ALIVE ? address : null,
        owner,
        lifetime,
        numRestarts,
        maxRestarts,
        maxTaskRetries,
        maxConcurrency,
        why,
        version + 1,
        nodeId);
  }

  /**
   * This entry as registered: {@code PENDING}, version 1, no instance yet; only the creator's
   * settings are taken from it.
   */
  ActorEntry asRegistered() {
    return new ActorEntry(
        id,
        name,
        className,
        State.PENDING,
        null,
        owner,
        lifetime,
        0,
        maxRestarts,
        maxTaskRetries,
        maxConcurrency,
        null,
        1,
        null);
  }
}
