package dev.sluice.bench;

import dev.sluice.Sluice;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs every measurement in one JVM and prints a table comparing Sluice's task throughput and
 * latency with raw transport round trips on the same machine:
 *
 * <ol>
 *   <li>Sluice async normal-task throughput (absolute, target {@value #ASYNC_TARGET_TASKS_PER_S}
 *       tasks/s);
 *   <li>Sluice sync task round trip, as a ratio to the RSocket round trip (target at most
 *       {@value #SYNC_TARGET_RATIO}x);
 *   <li>grpc-java unary round trips with the runtime's channel settings and with gRPC's defaults;
 *   <li>a grpc-java bidirectional-stream ping-pong with the runtime's settings;
 *   <li>the RSocket-java request-response round trip, the baseline of the ratios.
 * </ol>
 *
 * <p>Latencies are compared as ratios to RSocket rather than as absolute numbers because the
 * ratio carries over between machines while microseconds do not. Every figure is the median of
 * several interleaved rounds (see {@link InterleavedRunner}); the details table adds min and max.
 *
 * <p>Usage: {@code java -jar sluice-bench/target/sluice-bench.jar [--quick] [--rounds N]
 * [--tasks N] [--sync-tasks N] [--ops N]}. Exits 0 after a complete run, whether or not the
 * targets were met, 1 if a measurement failed and 2 on bad arguments. The embedded cluster is
 * always shut down, so no worker JVM outlives the run.
 */
public final class BenchMain {
  /** Target of the async task throughput, in tasks per second. */
  public static final double ASYNC_TARGET_TASKS_PER_S = 20_000;
  /** Target of the sync task round trip, as a multiple of the RSocket round trip. */
  public static final double SYNC_TARGET_RATIO = 3.0;

  private BenchMain() {}

  /** Parses the arguments, runs the benchmark and exits. */
  public static void main(String[] args) {
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
        StandardCharsets.UTF_8);
    if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
      out.print(BenchOptions.USAGE);
      System.exit(0);
    }
    BenchOptions options;
    try {
      options = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("sluice-bench: " + e.getMessage());
      System.err.print(BenchOptions.USAGE);
      System.exit(2);
      return;
    }
    int code = 0;
    try {
      run(options, out);
    } catch (Throwable t) {
      out.flush();
      System.err.println("sluice-bench failed:");
      t.printStackTrace();
      code = 1;
    }
    System.exit(code);
  }

  private static void run(BenchOptions o, PrintStream out) throws Exception {
    long start = System.nanoTime();
    out.printf("Sluice bench, %s run: %d rounds per measurement, %d async tasks, "
        + "%d sync tasks and %d transport round trips per round%n",
        o.quick() ? "quick" : "full", o.rounds(), o.tasks(), o.syncTasks(), o.rttOps());
    out.println(MachineInfo.describe());
    out.println(MachineInfo.jvmOptions());
    List<Measurement> all = new ArrayList<>();
    try {
      out.println("starting the embedded cluster and running " + o.clusterWarmUpTasks()
          + " warm-up tasks ...");
      long t0 = System.nanoTime();
      TaskBenchmarks.startCluster(o.clusterWarmUpTasks());
      out.printf("cluster ready in %.1f s%n", (System.nanoTime() - t0) / 1e9);

      Measurement async = add(all, TaskBenchmarks.asyncThroughput(o.tasks(), 2));
      Measurement sync = add(all, TaskBenchmarks.syncRoundTrip(
          Math.max(o.syncTasks(), o.warmUpOps() / 4), o.syncTasks()));
      Measurement rsocket = add(all, RSocketBaseline.start(o.warmUpOps(), o.rttOps()));
      Measurement grpcUnary = add(all, GrpcBaseline.unaryRuntimeConfig(o.warmUpOps(),
          o.rttOps()));
      Measurement grpcDefault = add(all, GrpcBaseline.unaryDefaultConfig(o.warmUpOps(),
          o.rttOps()));
      Measurement grpcStream = add(all, GrpcBaseline.bidiStreamRuntimeConfig(o.warmUpOps(),
          o.rttOps()));

      Map<Measurement, Stats> stats = new InterleavedRunner(out).run(all, o.rounds());

      double baseline = stats.get(rsocket).median();
      String base = "RSocket " + InterleavedRunner.format(baseline, rsocket.unit());
      double asyncRate = stats.get(async).median();
      double syncRatio = stats.get(sync).median() / baseline;
      ResultTable summary = new ResultTable("metric", "value", "baseline", "ratio", "target",
          "met");
      summary.addRow("Sluice async normal tasks", value(stats, async), "-", "-",
          String.format(Locale.ROOT, ">= %,.0f tasks/s", ASYNC_TARGET_TASKS_PER_S),
          met(asyncRate >= ASYNC_TARGET_TASKS_PER_S));
      summary.addRow("Sluice sync task round trip", value(stats, sync), base, ratio(syncRatio),
          String.format(Locale.ROOT, "<= %.1fx", SYNC_TARGET_RATIO),
          met(syncRatio <= SYNC_TARGET_RATIO));
      for (Measurement m : List.of(grpcUnary, grpcDefault, grpcStream)) {
        summary.addRow(m.name() + " RTT", value(stats, m), base,
            ratio(stats.get(m).median() / baseline), "-", "-");
      }
      summary.addRow("RSocket request-response RTT", value(stats, rsocket), "-", ratio(1.0), "-",
          "-");

      ResultTable details = new ResultTable("measurement", "median", "min", "max", "rounds",
          "work per round");
      for (Map.Entry<Measurement, Stats> e : stats.entrySet()) {
        Measurement m = e.getKey();
        Stats s = e.getValue();
        details.addRow(m.name(), InterleavedRunner.format(s.median(), m.unit()),
            InterleavedRunner.format(s.min(), m.unit()),
            InterleavedRunner.format(s.max(), m.unit()), Integer.toString(s.rounds()),
            m.workPerRound());
      }
      out.println();
      out.println(MachineInfo.describe());
      out.println();
      out.print(summary.render());
      out.println();
      out.println("Values are medians of the rounds; ratios are to the RSocket median.");
      if (o.quick()) {
        out.println("Quick run: too short to reach steady state; judge the targets on a full run.");
      }
      out.println();
      out.print(details.render());
      out.printf("%ntotal %.1f s%n", (System.nanoTime() - start) / 1e9);
    } finally {
      for (Measurement m : all) {
        try {
          m.close();
        } catch (RuntimeException e) {
          System.err.println("closing " + m.name() + " failed: " + e);
        }
      }
      Sluice.shutdown();
    }
  }

  private static Measurement add(List<Measurement> all, Measurement m) {
    all.add(m);
    return m;
  }

  private static String value(Map<Measurement, Stats> stats, Measurement m) {
    return InterleavedRunner.format(stats.get(m).median(), m.unit());
  }

  private static String ratio(double r) {
    return String.format(Locale.ROOT, "%.2fx", r);
  }

  private static String met(boolean met) {
    return met ? "yes" : "NO";
  }
}
