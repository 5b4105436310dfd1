package dev.sluice.bench;

import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
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
 * starts empty: one untimed session records it, and its shutdown assembles it (or, if that takes
 * longer than the node waits, the next untimed session's node does); then the two variants
 * alternate. Each row is the median of the starts, and the note gives the machine's load average,
 * which the times depend on. The AOT cache applies to jar-only class paths, which {@code java -jar
 * sluice-bench.jar} gives its workers.
 *
 * <p>Sluice is one per process: the caller must not have it initialized.
 */
final class WorkerStartBenchmarks {
  private static final Duration FIRST_TASK_TIMEOUT = Duration.ofMinutes(2);

  /** Untimed sessions after the first that may run until the cache is assembled. */
  private static final int MAX_TRAINING_SESSIONS = 3;

  private WorkerStartBenchmarks() {}

  /** Runs {@code samples} fresh starts each way and returns the table. */
  static String run(PrintStream out, int samples) throws Exception {
    Path root = Files.createTempDirectory("sluice-bench-worker-start");
    try {
      out.println("worker start: recording the AOT cache (untimed sessions) ...");
      sample(root, true);
      // Its shutdown assembles the cache; one that took longer than the node waits for is
      // assembled by the next session's node instead.
      for (int i = 0; i < MAX_TRAINING_SESSIONS && !hasCache(root); i++) {
        sample(root, true);
      }
      if (!hasCache(root)) {
        out.println("worker start: no AOT cache was assembled; the cached row starts without");
      }
      double loadBefore = loadAverage();
      // Interleaved, so that a change of the machine's load hits both variants alike.
      double[] plain = new double[samples];
      double[] cached = new double[samples];
      for (int i = 0; i < samples; i++) {
        plain[i] = sample(root, false);
        cached[i] = sample(root, true);
        out.printf(
            Locale.ROOT,
            "worker start %d/%d: %.0f ms without AOT cache, %.0f ms with%n",
            i + 1,
            samples,
            plain[i],
            cached[i]);
      }
      double loadAfter = loadAverage();
      Stats p = Stats.of(plain);
      Stats c = Stats.of(cached);
      ResultTable t = new ResultTable("metric", "median", "min", "max", "starts", "target", "met");
      t.addRow(
          "Worker start: launch -> first task, no AOT cache",
          ms(p.median()),
          ms(p.min()),
          ms(p.max()),
          Integer.toString(p.rounds()),
          "-",
          "-");
      t.addRow(
          "Worker start: launch -> first task, AOT cache",
          ms(c.median()),
          ms(c.min()),
          ms(c.max()),
          Integer.toString(c.rounds()),
          "<= 1,000 ms",
          BenchMain.met(c.median() <= 1000));
      return "Worker start\n\n"
          + t.render()
          + "\nEach start is a fresh embedded cluster (1 CPU, no"
          + " prestarted worker) whose first task makes the node launch a worker JVM: submit to"
          + " value. The cache is the node's JDK AOT cache of the worker launch line. "
          + String.format(
              Locale.ROOT,
              "Load average %.1f before, %.1f after (%d cores).%n",
              loadBefore,
              loadAfter,
              Runtime.getRuntime().availableProcessors());
    } finally {
      System.clearProperty("sluice.worker.aot");
      deleteTree(root);
    }
  }

  /** Whether the session root holds an assembled worker AOT cache. */
  private static boolean hasCache(Path root) throws IOException {
    Path dir = root.resolve("cache").resolve("worker-aot");
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.anyMatch(f -> f.toString().endsWith(".aot"));
    }
  }

  /** The system's one-minute load average (negative where the JDK cannot tell). */
  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
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
