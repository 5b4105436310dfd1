package dev.sluice.bench;

import java.time.Duration;
import java.util.List;

/**
 * Command-line settings of the harness. {@code --quick} is a smoke run for CI (seconds, numbers
 * only roughly right); the default is the full run whose numbers are worth quoting.
 *
 * @param quick whether this is the short smoke run
 * @param streamsOnly whether to run only the streaming measurements (plus the gRPC unary round trip
 *     they are compared with)
 * @param largeOnly whether to run only the large-object measurements
 * @param clusterOnly whether to run only the multi-node measurements ({@link ClusterBenchmarks})
 * @param actorsOnly whether to run only the actor measurements ({@link ActorBenchmarks})
 * @param workerStartOnly whether to run only the worker start measurement ({@link
 *     WorkerStartBenchmarks})
 * @param groups the peer-process groups to run ({@link PeerGroups#DATAPATH}, {@link
 *     PeerGroups#OBSERVABILITY}), in order; empty for the classic sections
 * @param workerStarts fresh worker starts per variant of the worker start measurement
 * @param rounds timed rounds per measurement
 * @param tasks tasks per round of the async throughput measurement
 * @param syncTasks tasks per round of the sync task round-trip measurement
 * @param rttOps round trips per round of each transport baseline
 * @param streamItems items per round of the Sluice stream without backpressure
 * @param bp16Items items per round of the Sluice stream with backpressure 16
 * @param bp1Items items per round of the Sluice stream with backpressure 1
 * @param rsocketStreamItems items per round of the RSocket stream with default demand
 * @param rsocketRequest1Items items per round of the RSocket stream with {@code request(1)}
 * @param grpcStreamItems items per round of the gRPC server stream
 * @param firstItemSamples streams per round of the time-to-first-item measurement
 * @param idleStreams streams held open per round of the idle-stream memory measurement
 * @param warmUpOps untimed round trips before the first round of each latency measurement
 * @param clusterWarmUpTasks tasks run right after the cluster starts, before anything is timed
 * @param roundMillis the least time each measurement of a peer group runs per round (two parts of
 *     half of it, see {@link RoundPolicy})
 * @param warmUpWindowMillis the least time of a peer group's warm-up window
 * @param warmUpMaxMillis when a peer group's warm-up stops even if not steady
 * @param taskEventsPerSecond the task attempts an observability group driver with observability on
 *     records a second ({@code SluiceConfig.taskEventsPerSecond}); -1: Sluice's default
 */
public record BenchOptions(
    boolean quick,
    boolean streamsOnly,
    boolean largeOnly,
    boolean clusterOnly,
    boolean workerStartOnly,
    boolean actorsOnly,
    List<String> groups,
    int workerStarts,
    int rounds,
    int tasks,
    int syncTasks,
    int rttOps,
    int streamItems,
    int bp16Items,
    int bp1Items,
    int rsocketStreamItems,
    int rsocketRequest1Items,
    int grpcStreamItems,
    int firstItemSamples,
    int idleStreams,
    int warmUpOps,
    int clusterWarmUpTasks,
    int roundMillis,
    int warmUpWindowMillis,
    int warmUpMaxMillis,
    int taskEventsPerSecond) {

  /** How far apart a peer group's last warm-up windows may be to count as steady. */
  static final double WARM_UP_TOLERANCE = 0.1;

  static final String USAGE =
      """
      usage: java -jar sluice-bench.jar [--quick]
                                        [--streams-only | --large-only | --cluster-only |
                                         --worker-start-only | --actors-only |
                                         --group datapath[,observability]]
                                        [--worker-starts N]
                                        [--rounds N]
                                        [--tasks N]
                                        [--sync-tasks N] [--ops N] [--stream-items N]
                                        [--bp16-items N] [--bp1-items N]
                                        [--rsocket-stream-items N] [--rsocket-request1-items N]
                                        [--grpc-stream-items N] [--first-item-samples N]
                                        [--idle-streams N]
                                        [--round-ms N] [--warmup-max-ms N]
        --quick                   short smoke run (for CI): fewer rounds and operations
        --streams-only            only the streaming measurements and their peers
        --large-only              only the large-object measurements (shared-memory store)
        --cluster-only            only the multi-node measurements (local clusters of node
                                  JVMs): cross-node transfer of 1 GiB against loopback TCP,
                                  and task throughput on 3 nodes against 1 (at most 5
                                  rounds; a few minutes)
        --worker-start-only       only the worker start: launch -> first task of fresh
                                  worker JVMs, without and with the AOT cache
        --actors-only             only the actor measurements: a token stream between
                                  two actors (Ray's streaming benchmark) and sync actor
                                  calls against the sync task round trip
        --group G[,G]             only the named groups, each peer in JVMs of its own
                                  (rounds interleaved with Sluice's, ratios judged round
                                  by round): datapath (issue 14's targets: Sluice vs
                                  RSocket in its own client and server JVMs, memcpy in
                                  its own JVM) and observability (Sluice with
                                  observability on vs off, two drivers). Rounds are
                                  timed (--round-ms), warm-ups run until steady. Full:
                                  about 5 min on 2 cores; with --quick: 3 short rounds,
                                  about 1.5 min
        --worker-starts N         fresh starts per variant of it (default 11, quick 5)
        --rounds N                timed rounds per measurement (default 7, quick 3)
        --tasks N                 tasks per round of the async throughput measurement
                                  (default 20000)
        --sync-tasks N            tasks per round of the sync task latency measurement
                                  (default 2000)
        --ops N                   round trips per round of each gRPC/RSocket baseline
                                  (default 5000)
        The stream sizes below aim at rounds of 1-2 s on an idle 2-core machine:
        --stream-items N          items per round of the Sluice stream with backpressure off
                                  (default 300000)
        --bp16-items N            ... with backpressure 16 (default 30000)
        --bp1-items N             ... with backpressure 1 (default 5000)
        --rsocket-stream-items N  items per round of the RSocket stream with default demand
                                  (default 1000000)
        --rsocket-request1-items N  ... with request(1) per item (default 40000)
        --grpc-stream-items N     items per round of the gRPC server stream (default 30000)
        --first-item-samples N    streams per round of the time-to-first-item measurement
                                  (default 300)
        --idle-streams N          open streams per round of the idle-stream memory
                                  measurement (default 10000)
        --task-events-per-second N  task attempts the observability group's "on" drivers
                                  record a second (default: Sluice's default; 0: none)
      """;

  /** Parses {@code args}; throws {@link IllegalArgumentException} with a usage message. */
  public static BenchOptions parse(String[] args) {
    boolean quick = false;
    boolean streamsOnly = false;
    boolean largeOnly = false;
    boolean clusterOnly = false;
    boolean workerStartOnly = false;
    boolean actorsOnly = false;
    List<String> groups = List.of();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--group")) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("--group needs a name: " + PeerGroups.ALL);
        }
        groups = List.of(args[i + 1].split(","));
        for (String g : groups) {
          if (!PeerGroups.ALL.contains(g)) {
            throw new IllegalArgumentException(
                "unknown group '" + g + "'; groups: " + String.join(", ", PeerGroups.ALL));
          }
        }
      }
    }
    for (String a : args) {
      quick |= a.equals("--quick");
      streamsOnly |= a.equals("--streams-only");
      largeOnly |= a.equals("--large-only");
      clusterOnly |= a.equals("--cluster-only");
      workerStartOnly |= a.equals("--worker-start-only");
      actorsOnly |= a.equals("--actors-only");
    }
    if ((streamsOnly ? 1 : 0)
            + (largeOnly ? 1 : 0)
            + (clusterOnly ? 1 : 0)
            + (workerStartOnly ? 1 : 0)
            + (actorsOnly ? 1 : 0)
            + (groups.isEmpty() ? 0 : 1)
        > 1) {
      throw new IllegalArgumentException(
          "--streams-only, --large-only, --cluster-only, --worker-start-only, --actors-only"
              + " and --group exclude each other");
    }
    int rounds = quick ? 3 : 7;
    int tasks = quick ? 2_000 : 20_000;
    int syncTasks = quick ? 200 : 2_000;
    int rttOps = quick ? 500 : 5_000;
    int streamItems = quick ? 30_000 : 300_000;
    int bp16Items = quick ? 3_000 : 30_000;
    int bp1Items = quick ? 500 : 5_000;
    int rsocketStreamItems = quick ? 100_000 : 1_000_000;
    int rsocketRequest1Items = quick ? 4_000 : 40_000;
    int grpcStreamItems = quick ? 3_000 : 30_000;
    int firstItemSamples = quick ? 50 : 300;
    int idleStreams = quick ? 2_000 : 10_000;
    int workerStarts = quick ? 5 : 11;
    int warmUpOps = quick ? 2_000 : 20_000;
    int roundMillis = quick ? 500 : 1_500;
    int warmUpWindowMillis = quick ? 250 : 500;
    int warmUpMaxMillis = quick ? 2_500 : 8_000;
    if (!groups.isEmpty()) {
      // The groups' rounds are timed (RoundPolicy): these are the sizes of one batch (half the full
      // run's in --quick, whose parts are short), and each RSocket stream is as long as the Sluice
      // stream it is compared with.
      int div = quick ? 2 : 1;
      tasks = 20_000 / div;
      syncTasks = 2_000 / div;
      rttOps = 5_000 / div;
      streamItems = 300_000 / div;
      bp16Items = 30_000 / div;
      bp1Items = 5_000 / div;
      rsocketStreamItems = streamItems;
      rsocketRequest1Items = bp1Items;
      grpcStreamItems = 30_000 / div;
      firstItemSamples = 300 / div;
      // Round trips reach steady state only after about 20,000 (JIT of three JVMs), for Sluice and
      // its peers alike: the least warm-up, before the windows that wait for a steady rate.
      warmUpOps = 20_000;
    }
    int taskEventsPerSecond = -1;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick",
            "--streams-only",
            "--large-only",
            "--cluster-only",
            "--worker-start-only",
            "--actors-only" -> {}
        case "--group" -> i++;
        case "--worker-starts" -> workerStarts = positiveInt(args, ++i);
        case "--rounds" -> rounds = positiveInt(args, ++i);
        case "--tasks" -> tasks = positiveInt(args, ++i);
        case "--sync-tasks" -> syncTasks = positiveInt(args, ++i);
        case "--ops" -> rttOps = positiveInt(args, ++i);
        case "--stream-items" -> streamItems = positiveInt(args, ++i);
        case "--bp16-items" -> bp16Items = positiveInt(args, ++i);
        case "--bp1-items" -> bp1Items = positiveInt(args, ++i);
        case "--rsocket-stream-items" -> rsocketStreamItems = positiveInt(args, ++i);
        case "--rsocket-request1-items" -> rsocketRequest1Items = positiveInt(args, ++i);
        case "--grpc-stream-items" -> grpcStreamItems = positiveInt(args, ++i);
        case "--first-item-samples" -> firstItemSamples = positiveInt(args, ++i);
        case "--idle-streams" -> idleStreams = positiveInt(args, ++i);
        case "--round-ms" -> roundMillis = positiveInt(args, ++i);
        case "--warmup-max-ms" -> warmUpMaxMillis = positiveInt(args, ++i);
        case "--task-events-per-second" -> taskEventsPerSecond = intAtLeast(0, args, ++i);
        default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
      }
    }
    int clusterWarmUpTasks = quick ? 200 : 500;
    return new BenchOptions(
        quick,
        streamsOnly,
        largeOnly,
        clusterOnly,
        workerStartOnly,
        actorsOnly,
        groups,
        workerStarts,
        rounds,
        tasks,
        syncTasks,
        rttOps,
        streamItems,
        bp16Items,
        bp1Items,
        rsocketStreamItems,
        rsocketRequest1Items,
        grpcStreamItems,
        firstItemSamples,
        idleStreams,
        warmUpOps,
        clusterWarmUpTasks,
        roundMillis,
        warmUpWindowMillis,
        warmUpMaxMillis,
        taskEventsPerSecond);
  }

  /**
   * How a peer group's rounds and warm-ups are timed: parts of half of {@link #roundMillis},
   * warm-up windows of {@link #warmUpWindowMillis} until steady within {@value #WARM_UP_TOLERANCE}
   * or {@link #warmUpMaxMillis}.
   */
  RoundPolicy roundPolicy() {
    return new RoundPolicy(
        Duration.ofMillis(Math.max(1, roundMillis / 2)),
        Duration.ofMillis(warmUpWindowMillis),
        Duration.ofMillis(warmUpMaxMillis),
        WARM_UP_TOLERANCE);
  }

  /**
   * How the observability group's rounds and warm-ups are timed: like {@link #roundPolicy()} in a
   * quick run; in a full run, parts of at least {@value #OBSERVABILITY_PART_MILLIS} ms and warm-up
   * windows of at least {@value #OBSERVABILITY_WINDOW_MILLIS} ms for up to {@value
   * #OBSERVABILITY_WARM_UP_MAX_MILLIS} ms. Its target is a 5% difference between two Sluice
   * drivers, smaller than what a 0.75 s part of a loaded 2-core machine resolves (one young
   * collection or a recompilation moves a short part by 10-30%), and its drivers compile more code
   * than a peer: a short warm-up window can look steady while the JIT is still at work.
   */
  RoundPolicy observabilityPolicy() {
    RoundPolicy base = roundPolicy();
    if (quick) {
      return base;
    }
    return new RoundPolicy(
        max(base.part(), Duration.ofMillis(OBSERVABILITY_PART_MILLIS)),
        max(base.window(), Duration.ofMillis(OBSERVABILITY_WINDOW_MILLIS)),
        max(base.warmUpMax(), Duration.ofMillis(OBSERVABILITY_WARM_UP_MAX_MILLIS)),
        base.tolerance());
  }

  /** The observability group's least part in a full run. */
  static final int OBSERVABILITY_PART_MILLIS = 2_500;

  /** The observability group's least warm-up window in a full run. */
  static final int OBSERVABILITY_WINDOW_MILLIS = 2_000;

  /** The observability group's longest warm-up in a full run. */
  static final int OBSERVABILITY_WARM_UP_MAX_MILLIS = 30_000;

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static int positiveInt(String[] args, int i) {
    return intAtLeast(1, args, i);
  }

  /** The number at {@code args[i]}, which must be at least {@code least}. */
  private static int intAtLeast(int least, String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a number");
    }
    try {
      int v = Integer.parseInt(args[i].replace("_", ""));
      if (v < least) {
        throw new IllegalArgumentException(args[i - 1] + " must be >= " + least + ", got " + v);
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(args[i - 1] + " needs a number, got '" + args[i] + "'");
    }
  }
}
