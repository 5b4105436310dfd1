package dev.sluice;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.stream.IntStream;

/**
 * A driver program for {@link NodeFailureTest}, run as its own JVM: joins the cluster at {@code
 * args[0]} (token from {@code SLUICE_CLUSTER_TOKEN}), starts a generator with backpressure 1 on
 * node {@code args[1]} and consumes nothing, so the producer blocks after its first item, and a
 * task there that runs until cancelled; prints {@code READY} once both run, then waits to be
 * killed.
 */
public final class BlockedProducerDriverMain {
  private BlockedProducerDriverMain() {}

  static Iterator<Integer> endless(String dir) {
    return IntStream.range(0, 1_000_000)
        .peek(
            k -> {
              try {
                Files.writeString(Path.of(dir, "yielded-" + k), "");
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            })
        .boxed()
        .iterator();
  }

  /** Runs until interrupted (cancelled), then leaves marker "interrupted". */
  static Integer spin(String dir) throws java.io.IOException {
    Files.writeString(Path.of(dir, "spinning"), "");
    try {
      Thread.sleep(Long.MAX_VALUE);
    } catch (InterruptedException e) {
      Files.writeString(Path.of(dir, "interrupted"), "");
    }
    return 0;
  }

  public static void main(String[] args) throws Exception {
    Sluice.init(SluiceConfig.builder().address(args[0]).build());
    ObjectRefGenerator<Integer> gen =
        Sluice.generator(BlockedProducerDriverMain::endless, args[2])
            .options(
                TaskOptions.builder()
                    .generatorBackpressureNumObjects(1)
                    .nodeAffinity(NodeId.fromHex(args[1]), false)
                    .build())
            .remote();
    ObjectRef<Integer> spinning =
        Sluice.task(BlockedProducerDriverMain::spin, args[2])
            .options(TaskOptions.builder().nodeAffinity(NodeId.fromHex(args[1]), false).build())
            .remote();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(Files.exists(Path.of(args[2], "yielded-0"))
            && Files.exists(Path.of(args[2], "spinning")))
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    System.out.println("READY " + gen + " " + spinning);
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
