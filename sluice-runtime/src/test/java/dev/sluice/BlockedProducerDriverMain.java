package dev.sluice;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.stream.IntStream;

/**
 * A driver program for {@link NodeFailureTest}, run as its own JVM: joins the cluster at
 * {@code args[0]} (token from {@code SLUICE_CLUSTER_TOKEN}), starts a generator with
 * backpressure 1 on node {@code args[1]} and consumes nothing, so the producer blocks after its
 * first item; prints {@code READY} once that item was yielded, then waits to be killed.
 */
public final class BlockedProducerDriverMain {
  private BlockedProducerDriverMain() {}

  static Iterator<Integer> endless(String dir) {
    return IntStream.range(0, 1_000_000).peek(k -> {
      try {
        Files.writeString(Path.of(dir, "yielded-" + k), "");
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).boxed().iterator();
  }

  public static void main(String[] args) throws Exception {
    Sluice.init(SluiceConfig.builder().address(args[0]).build());
    ObjectRefGenerator<Integer> gen = Sluice.generator(BlockedProducerDriverMain::endless, args[2])
        .options(TaskOptions.builder().generatorBackpressureNumObjects(1)
            .nodeAffinity(NodeId.fromHex(args[1]), false).build()).remote();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!Files.exists(Path.of(args[2], "yielded-0")) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    System.out.println("READY " + gen);
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
