package dev.sluice.runtime.control;

import dev.sluice.ActorDiedException.Reason;
import dev.sluice.JobId;
import dev.sluice.NodeId;

/**
 * The messages of the {@link ActorTable}'s deaths, which users read as {@code ActorDiedException}
 * messages: each names the actor (class, name if any, id) and its node and says why it died.
 * Stateless.
 */
final class ActorDeathMessages {
  private ActorDeathMessages() {}

  /** "actor Counter 'counter' (id 0a1b…)". */
  static String actor(ActorEntry e) {
    return "actor "
        + e.className()
        + (e.hasName() ? " '" + e.name() + "'" : "")
        + " (id "
        + e.id().hex()
        + ")";
  }

  /** " on node N", or where it stands when no instance has started yet. */
  private static String where(ActorEntry e, NodeId node) {
    NodeId at = node != null ? node : e.nodeId();
    if (at != null) {
      return " on node " + at.hex();
    }
    return " (not yet placed on a node)";
  }

  private static String detail(String detail) {
    return detail == null || detail.isBlank() ? "" : " (" + detail + ")";
  }

  private static String restarts(ActorEntry e) {
    return "maxRestarts " + e.maxRestarts() + ", restarted " + e.numRestarts() + " times";
  }

  private static String instance(ActorEntry e) {
    return e.state() == ActorEntry.State.ALIVE ? "" : " while it was being created";
  }

  static String creationFailed(ActorEntry e, Reason reason, NodeId node, String detail) {
    String why =
        reason == Reason.CONSTRUCTOR_FAILED
            ? " died: its constructor threw" + where(e, node)
            : " could not be created" + where(e, node);
    return actor(e) + why + (detail == null || detail.isBlank() ? "" : ": " + detail);
  }

  static ActorDeath noRestartsLeft(ActorEntry e, NodeId node, String detail) {
    return ActorDeath.of(
        Reason.PROCESS_DIED,
        actor(e)
            + " died: its worker process"
            + where(e, node)
            + " died"
            + instance(e)
            + detail(detail)
            + " and it has no restarts left ("
            + restarts(e)
            + ")");
  }

  static ActorDeath creatorGone(ActorEntry e, NodeId node, String detail) {
    return ActorDeath.of(
        Reason.PROCESS_DIED,
        actor(e)
            + " died: its worker process"
            + where(e, node)
            + " died"
            + instance(e)
            + detail(detail)
            + " and it cannot restart because its creator ("
            + e.owner()
            + ") is gone");
  }

  static ActorDeath restartingWhenCreatorWent(ActorEntry e) {
    return ActorDeath.of(
        Reason.PROCESS_DIED,
        actor(e)
            + " died: its worker process"
            + where(e, null)
            + " had died and it cannot restart because its creator ("
            + e.owner()
            + ") is gone");
  }

  static ActorDeath ownerDied(ActorEntry e) {
    return ActorDeath.of(
        Reason.OWNER_DIED,
        actor(e)
            + where(e, null)
            + " died because its owner ("
            + e.owner()
            + ") died; only a DETACHED actor outlives the process that created it");
  }

  static ActorDeath jobFinished(ActorEntry e, JobId job) {
    return ActorDeath.of(
        Reason.OWNER_DIED,
        actor(e)
            + where(e, null)
            + " died because job "
            + job.hex()
            + " that created it finished; only a DETACHED actor outlives its job");
  }

  static ActorDeath creatorGoneBeforeCreation(ActorEntry e) {
    return ActorDeath.of(
        Reason.CREATION_FAILED,
        actor(e)
            + " could not be created: its creator ("
            + e.owner()
            + ") went away before the actor was created");
  }

  static ActorDeath killed(ActorEntry e) {
    return ActorDeath.of(Reason.KILLED, actor(e) + where(e, null) + " was killed (Sluice.kill)");
  }
}
