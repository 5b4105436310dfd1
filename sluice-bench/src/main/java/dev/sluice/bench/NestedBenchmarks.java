package dev.sluice.bench;

import dev.sluice.ObjectRef;
import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import dev.sluice.runtime.common.ProcessCommandLine;
import dev.sluice.runtime.executor.WorkerConfig;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Nested tasks: the textbook recursive {@code fib(n)} as tasks (each call submits {@code fib(n-1)}
 * and {@code fib(n-2)} and gets both) on an embedded cluster of 4 CPUs, warm workers. Targets:
 * {@code fib(10)} (177 tasks) within {@value #FIB10_TARGET_S} s and {@code fib(15)} (1,973 tasks)
 * within {@value #FIB15_TARGET_S} s, with at most CPUs + {@code maxExtraWorkers} worker JVMs. Each
 * round gets a fresh cluster; the worker count is sampled while the tasks run.
 *
 * <p>Usage: {@code java -cp sluice-bench.jar dev.sluice.bench.NestedBenchmarks [rounds]}.
 */
public final class NestedBenchmarks {
  static final double FIB10_TARGET_S = 2;
  static final double FIB15_TARGET_S = 15;
  static final int CPUS = Integer.getInteger("sluice.bench.cpus", 4);

  private NestedBenchmarks() {}

  /** The recursive function, as tasks. */
  public static long fib(int n) {
    if (n < 2) {
      return n;
    }
    ObjectRef<Long> a = Sluice.task(NestedBenchmarks::fib, n - 1).remote();
    ObjectRef<Long> b = Sluice.task(NestedBenchmarks::fib, n - 2).remote();
    return a.get() + b.get();
  }

  static long one() {
    return 1;
  }

  /** Runs the rounds and prints the table. */
  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int extra =
        args.length > 1 ? Integer.parseInt(args[1]) : SluiceConfig.DEFAULT_MAX_EXTRA_WORKERS;
    run(rounds, extra, System.out);
  }

  static void run(int rounds, int extraWorkers, PrintStream out) {
    List<Double> fib10 = new ArrayList<>();
    List<Double> fib15 = new ArrayList<>();
    int mostWorkers = 0;
    for (int r = 0; r < rounds; r++) {
      Sluice.init(SluiceConfig.builder().numCpus(CPUS).maxExtraWorkers(extraWorkers).build());
      AtomicBoolean done = new AtomicBoolean();
      AtomicInteger most = new AtomicInteger();
      Thread sampler =
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    while (!done.get()) {
                      most.accumulateAndGet(workerJvms(), Math::max);
                      try {
                        Thread.sleep(20);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  });
      try {
        List<ObjectRef<Long>> warm = new ArrayList<>();
        for (int i = 0; i < CPUS; i++) {
          warm.add(Sluice.task(NestedBenchmarks::one).remote());
        }
        Sluice.get(warm);
        fib10.add(time(10, 55));
        fib15.add(time(15, 610));
      } finally {
        done.set(true);
        Sluice.shutdown();
      }
      mostWorkers = Math.max(mostWorkers, most.get());
      out.printf(
          Locale.ROOT,
          "round %d: fib(10) %.3f s, fib(15) %.3f s, worker JVMs <= %d%n",
          r + 1,
          fib10.getLast(),
          fib15.getLast(),
          most.get());
    }
    int bound = CPUS + extraWorkers;
    out.println();
    out.println("| nested tasks (4 CPUs, warm workers) | median | min | max | target | met |");
    out.println("|---|---|---|---|---|---|");
    row(out, "fib(10), 177 tasks", fib10, FIB10_TARGET_S);
    row(out, "fib(15), 1,973 tasks", fib15, FIB15_TARGET_S);
    out.printf(
        Locale.ROOT,
        "| most worker JVMs seen | %d | | | <= %d | %s |%n",
        mostWorkers,
        bound,
        mostWorkers <= bound ? "yes" : "NO");
  }

  private static double time(int n, long expected) {
    long t0 = System.nanoTime();
    long v = Sluice.task(NestedBenchmarks::fib, n).remote().get();
    double s = (System.nanoTime() - t0) / 1e9;
    if (v != expected) {
      throw new IllegalStateException("fib(" + n + ") = " + v + ", expected " + expected);
    }
    return s;
  }

  private static void row(PrintStream out, String what, List<Double> s, double target) {
    List<Double> sorted = s.stream().sorted().toList();
    double median = sorted.get(sorted.size() / 2);
    out.printf(
        Locale.ROOT,
        "| %s | %.2f s | %.2f s | %.2f s | <= %.0f s | %s |%n",
        what,
        median,
        sorted.getFirst(),
        sorted.getLast(),
        target,
        sorted.getLast() <= target ? "yes" : "NO");
  }

  private static int workerJvms() {
    return (int)
        ProcessHandle.current()
            .descendants()
            .filter(p -> ProcessCommandLine.of(p).orElse("").contains(WorkerConfig.MAIN_CLASS))
            .count();
  }
}
