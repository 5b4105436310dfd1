package dev.sluice.bench;

/**
 * Command-line settings of the harness. {@code --quick} is a smoke run for CI (seconds, numbers
 * only roughly right); the default is the full run whose numbers are worth quoting.
 *
 * @param quick whether this is the short smoke run
 * @param rounds timed rounds per measurement
 * @param tasks tasks per round of the async throughput measurement
 * @param syncTasks tasks per round of the sync task round-trip measurement
 * @param rttOps round trips per round of each transport baseline
 * @param warmUpOps untimed round trips before the first round of each latency measurement
 * @param clusterWarmUpTasks tasks run right after the cluster starts, before anything is timed
 */
public record BenchOptions(boolean quick, int rounds, int tasks, int syncTasks, int rttOps,
    int warmUpOps, int clusterWarmUpTasks) {

  static final String USAGE = """
      usage: java -jar sluice-bench.jar [--quick] [--rounds N] [--tasks N] [--sync-tasks N] [--ops N]
        --quick         short smoke run (for CI): fewer rounds and operations
        --rounds N      timed rounds per measurement (default 7, quick 3)
        --tasks N       tasks per round of the async throughput measurement (default 20000)
        --sync-tasks N  tasks per round of the sync task latency measurement (default 2000)
        --ops N         round trips per round of each gRPC/RSocket baseline (default 5000)
      """;

  /** Parses {@code args}; throws {@link IllegalArgumentException} with a usage message. */
  public static BenchOptions parse(String[] args) {
    boolean quick = false;
    for (String a : args) {
      quick |= a.equals("--quick");
    }
    int rounds = quick ? 3 : 7;
    int tasks = quick ? 2_000 : 20_000;
    int syncTasks = quick ? 200 : 2_000;
    int rttOps = quick ? 500 : 5_000;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> { }
        case "--rounds" -> rounds = positiveInt(args, ++i);
        case "--tasks" -> tasks = positiveInt(args, ++i);
        case "--sync-tasks" -> syncTasks = positiveInt(args, ++i);
        case "--ops" -> rttOps = positiveInt(args, ++i);
        default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
      }
    }
    int warmUpOps = quick ? 2_000 : 20_000;
    int clusterWarmUpTasks = quick ? 200 : 500;
    return new BenchOptions(quick, rounds, tasks, syncTasks, rttOps, warmUpOps,
        clusterWarmUpTasks);
  }

  private static int positiveInt(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a number");
    }
    try {
      int v = Integer.parseInt(args[i].replace("_", ""));
      if (v < 1) {
        throw new IllegalArgumentException(args[i - 1] + " must be >= 1, got " + v);
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(args[i - 1] + " needs a number, got '" + args[i] + "'");
    }
  }
}
