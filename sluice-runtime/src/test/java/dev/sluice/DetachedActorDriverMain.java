package dev.sluice;

import java.time.Duration;

/**
 * A driver program for {@link DetachedActorTest}, run as its own JVM: joins the cluster at {@code
 * args[0]} (token from {@code SLUICE_CLUSTER_TOKEN}), creates a {@link ActorLifetime#DETACHED}
 * actor named {@code args[1]} and an {@link ActorLifetime#OWNED} one named {@code args[1]-owned}
 * (both {@link DetachedActorTest.Box}), calls each once and prints {@code READY <detached pid>
 * <owned pid>}. On the line {@code exit} (or the end of its input) it shuts Sluice down and exits.
 */
public final class DetachedActorDriverMain {
  private DetachedActorDriverMain() {}

  public static void main(String[] args) throws Exception {
    Sluice.init(SluiceConfig.builder().address(args[0]).build());
    Duration wait = Duration.ofSeconds(120);
    ActorHandle<DetachedActorTest.Box> detached =
        Sluice.actor(DetachedActorTest.Box::new, "kept")
            .options(ActorOptions.builder().name(args[1]).lifetime(ActorLifetime.DETACHED).build())
            .remote();
    ActorHandle<DetachedActorTest.Box> owned =
        Sluice.actor(DetachedActorTest.Box::new, "owned")
            .options(ActorOptions.builder().name(args[1] + "-owned").build())
            .remote();
    long detachedPid = detached.task(DetachedActorTest.Box::pid).remote().get(wait);
    long ownedPid = owned.task(DetachedActorTest.Box::pid).remote().get(wait);
    DriverMainLines.readyThenAwait("READY " + detachedPid + " " + ownedPid, "exit");
    DriverMainLines.shutdownAndExit("EXITING");
  }
}
