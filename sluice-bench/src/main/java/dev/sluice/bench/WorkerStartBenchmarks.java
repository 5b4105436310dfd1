package dev.sluice.bench;

import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Worker start (issue 11): the time from a worker JVM's launch to its first task, over several
 * fresh starts, without and with the node's worker AOT cache. Each sample is a fresh embedded
 * cluster with no prestarted worker and one CPU: the first task's lease makes the node launch a
 * worker, and the sample is the time from submit to the task's value (lease, JVM launch, start-up,
 * registration, push, run, reply). The clusters use a session root of their own, so the cache
 * starts empty: one untimed session records it, and its shutdown assembles it; then the two
 * variants alternate. The AOT cache
 * applies to jar-only class paths, which {@code java -jar sluice-bench.jar} gives its workers.
 *
 * <p>Sluice is one per process: the caller must not have it initialized.
 */
final class WorkerStartBenchmarks {
  private static final Duration FIRST_TASK_TIMEOUT = Duration.ofMinutes(2);

  private WorkerStartBenchmarks() {}

  /** Runs {@code samples} fresh starts each way and returns the table. */
  static String run(PrintStream out, int samples) throws Exception {
    Path root = Files.createTempDirectory("sluice-bench-worker-start");
    try {
      out.println("worker start: recording the AOT cache (one untimed session) ...");
      sample(root, true);
      // Interleaved, so that a change of the machine's load hits both variants alike.
      double[] plain = new double[samples];
      double[] cached = new double[samples];
      for (int i = 0; i < samples; i++) {
        plain[i] = sample(root, false);
        cached[i] = sample(root, true);
        out.printf(Locale.ROOT, "worker start %d/%d: %.0f ms without AOT cache, %.0f ms with%n",
            i + 1, samples, plain[i], cached[i]);
      }
      Stats p = Stats.of(plain);
      Stats c = Stats.of(cached);
      ResultTable t = new ResultTable("metric", "median", "min", "max", "starts", "target",
          "met");
      t.addRow("Worker start: launch -> first task, no AOT cache", ms(p.median()), ms(p.min()),
          ms(p.max()), Integer.toString(p.rounds()), "-", "-");
      t.addRow("Worker start: launch -> first task, AOT cache", ms(c.median()), ms(c.min()),
          ms(c.max()), Integer.toString(c.rounds()), "<= 1,000 ms",
          BenchMain.met(c.median() <= 1000));
      return "Worker start\n\n" + t.render() + "\nEach start is a fresh embedded cluster (1 CPU, no"
          + " prestarted worker) whose first task makes the node launch a worker JVM: submit to"
          + " value. The cache is the node's JDK AOT cache of the worker launch line.\n";
    } finally {
      System.clearProperty("sluice.worker.aot");
      deleteTree(root);
    }
  }

  /** One fresh start: milliseconds from submitting the first task to its value. */
  private static double sample(Path root, boolean aotCache) {
    System.setProperty("sluice.worker.aot", Boolean.toString(aotCache));
    Sluice.init(SluiceConfig.builder().numCpus(1).numWorkers(0).sessionRoot(root).build());
    try {
      long t0 = System.nanoTime();
      Sluice.task(BenchTasks::noop, 0).remote().get(FIRST_TASK_TIMEOUT);
      return (System.nanoTime() - t0) / 1e6;
    } finally {
      Sluice.shutdown();
    }
  }

  private static String ms(double v) {
    return String.format(Locale.ROOT, "%,.0f ms", v);
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
