package dev.sluice;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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
    System.out.println("READY " + first + " " + second);
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    do {
      line = in.readLine();
    } while (line != null && !line.trim().equals("exit"));
    Sluice.shutdown();
    System.out.println("EXITING");
    System.out.flush();
    System.exit(0);
  }
}
