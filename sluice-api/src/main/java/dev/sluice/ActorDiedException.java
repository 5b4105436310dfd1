package dev.sluice;

import java.util.Objects;

/**
 * The actor is dead, so a call on it cannot run: thrown by {@code get} of every call that was
 * pending when it died or was made after, and by the {@code completed()} ref of a generator method
 * call. {@link #reason()} says why; when the constructor threw, that exception is the cause.
 */
public class ActorDiedException extends SluiceException {
  /** Why an actor died. */
  public enum Reason {
    /** The constructor or factory threw (see {@link #getCause()}). */
    CONSTRUCTOR_FAILED,
    /** {@link Sluice#kill(ActorHandle)} was called. */
    KILLED,
    /** Its worker process died and it had no restarts left. */
    PROCESS_DIED,
    /** It was {@link ActorLifetime#OWNED} and the process that created it died or ended. */
    OWNER_DIED,
    /** The actor could not be placed or started (for example no node has its resources). */
    CREATION_FAILED
  }

  private final Reason reason;

  /** Creates the exception with a message naming the actor, its class and node. */
  public ActorDiedException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Creates the exception with a message and the constructor's exception as cause. */
  public ActorDiedException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Why the actor died. */
  public Reason reason() {
    return reason;
  }
}
