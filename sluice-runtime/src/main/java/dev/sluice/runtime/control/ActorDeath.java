package dev.sluice.runtime.control;

import dev.sluice.ActorDiedException;
import java.util.Arrays;
import java.util.Objects;

/**
 * Why an actor is dead, as the {@link ActorTable} records it and callers turn into an {@link
 * ActorDiedException}: the reason, a message for users (it names the actor, its class and node and
 * says why), and the java-serialized exception that caused it (the constructor's), empty when there
 * is none. Immutable: the bytes are copied in and out.
 *
 * @param reason why the actor died
 * @param message the {@code ActorDiedException} message
 * @param serializedCause the serialized cause, or empty
 */
public record ActorDeath(ActorDiedException.Reason reason, String message, byte[] serializedCause) {
  private static final byte[] NONE = new byte[0];

  /** Checks the parts and copies the cause's bytes (null means none). */
  public ActorDeath {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
    serializedCause = serializedCause == null ? NONE : serializedCause.clone();
  }

  /** A death with no cause. */
  public static ActorDeath of(ActorDiedException.Reason reason, String message) {
    return new ActorDeath(reason, message, NONE);
  }

  /** A copy of the serialized cause's bytes; empty when there is none. */
  @Override
  public byte[] serializedCause() {
    return serializedCause.clone();
  }

  /** Whether a serialized cause is present. */
  public boolean hasCause() {
    return serializedCause.length > 0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ActorDeath d
        && reason == d.reason
        && message.equals(d.message)
        && Arrays.equals(serializedCause, d.serializedCause);
  }

  @Override
  public int hashCode() {
    return Objects.hash(reason, message, Arrays.hashCode(serializedCause));
  }

  @Override
  public String toString() {
    return reason + ": " + message + (hasCause() ? " (with cause)" : "");
  }
}
