package dev.sluice;

/** How long an actor lives when nobody kills it. */
public enum ActorLifetime {
  /**
   * The actor dies with the process that created it (a driver, or the worker process of the task or
   * actor that created it). The default.
   */
  OWNED,
  /**
   * The actor outlives its creator: it runs until {@link Sluice#kill(ActorHandle)}, a death with no
   * restarts left, or the cluster stopping. Usually given a name so that others can find it with
   * {@link Sluice#getActor(String, Class)}.
   */
  DETACHED
}
