package dev.sluice.runtime.actor;

import java.util.Objects;

/**
 * Why an {@link ActorCallQueue} answered a call without running it. A rejected call never ran and
 * never will in that queue.
 *
 * @param reason the kind of rejection, for the caller of the queue to map to a reply
 * @param message a sentence naming the call and why, for logs and errors
 */
public record CallRejection(Reason reason, String message) {
  /** The kinds of rejection. */
  public enum Reason {
    /**
     * The call's number is taken: a call with that number (or that task id) is already queued,
     * running or done in this queue, or the caller reported every call below a higher number
     * processed. The call is a resent or stale copy.
     */
    DUPLICATE,
    /** {@link ActorCallQueue#cancel} removed it before it started. */
    CANCELLED,
    /** {@link ActorCallQueue#callerGone} dropped it: the calling process is gone. */
    CALLER_GONE,
    /** {@link ActorCallQueue#close} was called: the actor is exiting. */
    CLOSED
  }

  /** Checks the fields. */
  public CallRejection {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
  }
}
