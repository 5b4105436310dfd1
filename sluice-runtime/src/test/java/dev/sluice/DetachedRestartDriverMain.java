package dev.sluice;

import java.time.Duration;

/**
 * A driver program for {@link DetachedActorTest}, run as its own JVM: joins the cluster at {@code
 * args[0]} (token from {@code SLUICE_CLUSTER_TOKEN}) and creates two {@link ActorLifetime#DETACHED}
 * {@link DetachedActorTest.Tally} actors with {@code maxRestarts(1)}: {@code args[1]} built from a
 * value, and {@code args[1]-ref} built from an {@code ObjectRef} this driver owns. It counts once
 * on each and prints {@code READY <pid of the first> <pid of the second>}. On the line {@code exit}
 * (or the end of its input) it shuts Sluice down and exits.
 */
public final class DetachedRestartDriverMain {
  private DetachedRestartDriverMain() {}

  public static void main(String[] args) throws Exception {
    Sluice.init(SluiceConfig.builder().address(args[0]).build());
    Duration wait = Duration.ofSeconds(120);
    ActorHandle<DetachedActorTest.Tally> byValue =
        Sluice.actor(DetachedActorTest.Tally::new, "from-value")
            .options(
                ActorOptions.builder()
                    .name(args[1])
                    .lifetime(ActorLifetime.DETACHED)
                    .maxRestarts(1)
                    .build())
            .remote();
    ActorHandle<DetachedActorTest.Tally> byRef =
        Sluice.actor(DetachedActorTest.Tally::new, Sluice.put("from-ref"))
            .options(
                ActorOptions.builder()
                    .name(args[1] + "-ref")
                    .lifetime(ActorLifetime.DETACHED)
                    .maxRestarts(1)
                    .build())
            .remote();
    byValue.task(DetachedActorTest.Tally::count).remote().get(wait);
    byRef.task(DetachedActorTest.Tally::count).remote().get(wait);
    long first = byValue.task(DetachedActorTest.Tally::pid).remote().get(wait);
    long second = byRef.task(DetachedActorTest.Tally::pid).remote().get(wait);
    DriverMainLines.readyThenAwait("READY " + first + " " + second, "exit");
    DriverMainLines.shutdownAndExit("EXITING");
  }
}
