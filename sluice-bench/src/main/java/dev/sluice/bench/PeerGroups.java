package dev.sluice.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The bench groups whose peers run as their users run them, each in JVMs of its own ({@link
 * PeerProcess}, {@link PeerMain}), and whose targets are judged round by round ({@link TargetRow}):
 *
 * <ul>
 *   <li>{@value #DATAPATH}: issue 14's table. One Sluice driver JVM (an embedded cluster with its
 *       prestarted workers) runs the Sluice rows; the RSocket server and the RSocket client run in
 *       two more JVMs, gRPC's unary echo (informational) in one, {@code System.arraycopy} in one.
 *   <li>{@value #OBSERVABILITY}: issue 15's cost rows, in {@link ObservabilityGroup}: two runs of
 *       four Sluice driver JVMs, observability on and off, in mirrored start orders; judged on the
 *       median of the rounds ({@link TargetRow.Target#medianDropAtMost}).
 * </ul>
 *
 * <p>Every measurement warms up until its rate is steady, then every measurement of a group runs
 * round 1, then every one runs round 2, and so on; the measurements a target compares run in
 * mirrored order within a round, each in two timed parts ({@link MirroredRunner}, {@link
 * RoundPolicy}). While one child runs a part, the others wait for their next command, and the
 * Sluice clusters between their parts are idle (no task, no stream), so a peer's part has the
 * machine to itself but for idle JVMs. The bench JVM itself only waits for answers.
 *
 * <p>Threads: everything runs on the caller's thread, one command at a time.
 */
final class PeerGroups {
  /** Issue 14's data-path targets. */
  static final String DATAPATH = "datapath";

  /** Issue 15's cost of observability. */
  static final String OBSERVABILITY = "observability";

  /** The groups, in the order {@code --group} accepts them. */
  static final List<String> ALL = List.of(DATAPATH, OBSERVABILITY);

  static final double SYNC_RATIO = 3.0;
  static final double BP1_RATIO = 2.0;
  static final double BP16_RATIO = 0.5;
  static final double BP_OFF_RATIO = 1.0;
  static final double ASYNC_TASKS_PER_S = 40_000;
  static final double FIRST_ITEM_RATIO = 2.0;
  static final double LARGE_MEMCPY_RATIO = 0.25;

  private PeerGroups() {}

  /** Runs the groups {@code o} names, in order, and returns their tables. */
  static String run(BenchOptions o, PrintStream out) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (String g : o.groups()) {
      sb.append(g.equals(DATAPATH) ? dataPath(o, out) : ObservabilityGroup.run(o, out))
          .append('\n');
    }
    return sb.toString();
  }

  private static int largeItems(BenchOptions o) {
    return o.quick() ? 8 : 16;
  }

  /**
   * Warm-up rounds of {@code itemsPerRound} items that add up to at least {@code warmUpOps} (and at
   * least the usual 2): the three JVMs of a round trip need about 20,000 of them before their JIT
   * reaches steady state, so the per-item rows warm up as long as the round trips do.
   */
  static int warmUpRounds(int warmUpOps, int itemsPerRound) {
    return Math.max(2, (warmUpOps + itemsPerRound - 1) / itemsPerRound);
  }

  static String dataPath(BenchOptions o, PrintStream out) throws Exception {
    out.println("data-path group: starting the peer and Sluice JVMs ...");
    List<PeerProcess> processes = new ArrayList<>();
    try {
      PeerProcess rsocketServer =
          add(processes, PeerProcess.start("rsocket server JVM", out, List.of("serve-rsocket")));
      int port = rsocketServer.port();
      PeerProcess rsocketClient =
          add(
              processes,
              PeerProcess.start(
                  "rsocket client JVM",
                  out,
                  specs(
                      o,
                      PeerProtocol.Spec.of(
                          "rsocket-rr", "port", port, "warmup", o.warmUpOps(), "ops", o.rttOps()),
                      PeerProtocol.Spec.of(
                          "rsocket-stream-one",
                          "port",
                          port,
                          "items",
                          o.rsocketRequest1Items(),
                          "warmupRounds",
                          warmUpRounds(o.warmUpOps(), o.rsocketRequest1Items())),
                      PeerProtocol.Spec.of(
                          "rsocket-stream-default",
                          "port",
                          port,
                          "items",
                          o.rsocketStreamItems()))));
      PeerProcess grpc =
          add(
              processes,
              PeerProcess.start(
                  "grpc JVM",
                  out,
                  specs(
                      o,
                      PeerProtocol.Spec.of(
                          "grpc-unary", "warmup", o.warmUpOps(), "ops", o.rttOps()))));
      PeerProcess memcpy =
          add(
              processes,
              PeerProcess.start(
                  "memcpy JVM",
                  out,
                  specs(
                      o,
                      PeerProtocol.Spec.of(
                          "memcpy",
                          "size",
                          LargeObjectBenchmarks.ITEM_BYTES,
                          "copies",
                          largeItems(o)))));
      List<String> sluiceArgs =
          measure(
              o.roundPolicy(),
              List.of("--warmup-tasks", Integer.toString(o.clusterWarmUpTasks())),
              PeerProtocol.Spec.of(
                  "sluice-sync",
                  "warmup",
                  Math.max(o.syncTasks(), o.warmUpOps()),
                  "ops",
                  o.syncTasks()),
              PeerProtocol.Spec.of(
                  "sluice-stream",
                  "bp",
                  1,
                  "items",
                  o.bp1Items(),
                  "perItem",
                  true,
                  "warmupRounds",
                  warmUpRounds(o.warmUpOps(), o.bp1Items())),
              PeerProtocol.Spec.of("sluice-stream", "bp", -1, "items", o.streamItems()),
              PeerProtocol.Spec.of("sluice-stream", "bp", 16, "items", o.bp16Items()),
              PeerProtocol.Spec.of("sluice-async", "tasks", o.tasks()),
              PeerProtocol.Spec.of(
                  "sluice-ttfi",
                  "warmup",
                  Math.max(o.firstItemSamples(), 200),
                  "samples",
                  o.firstItemSamples()),
              PeerProtocol.Spec.of("sluice-fresh-large", "items", largeItems(o)));
      PeerProcess sluice = add(processes, PeerProcess.start("Sluice driver JVM", out, sluiceArgs));

      List<TimedMeasurement> s = sluice.measurements("");
      List<TimedMeasurement> rs = rsocketClient.measurements("");
      TimedMeasurement sync = s.get(0);
      TimedMeasurement bp1 = s.get(1);
      TimedMeasurement bpOff = s.get(2);
      TimedMeasurement bp16 = s.get(3);
      TimedMeasurement async = s.get(4);
      TimedMeasurement firstItem = s.get(5);
      TimedMeasurement fresh = s.get(6);
      TimedMeasurement rr = rs.get(0);
      TimedMeasurement one = rs.get(1);
      TimedMeasurement demand = rs.get(2);
      TimedMeasurement copy = memcpy.measurements(" (own JVM)").get(0);
      TimedMeasurement unary = grpc.measurements(" (own JVM)").get(0);
      // Each block holds the measurements a target compares with each other: they run in mirrored
      // order in every round, so their ratios are free of a linear drift of the machine's speed.
      List<List<TimedMeasurement>> blocks =
          List.of(
              List.of(sync, rr, firstItem),
              List.of(bp1, one),
              List.of(bpOff, demand, bp16),
              List.of(async),
              List.of(fresh, copy),
              List.of(unary));
      MirroredRunner.Result result = new MirroredRunner(out).run(blocks, o.rounds());
      Map<Measurement, Stats> stats = result.stats();

      List<TargetRow> rows =
          List.of(
              row(
                  "sync task round trip",
                  stats,
                  sync,
                  "Sluice",
                  rr,
                  "RSocket request-response",
                  TargetRow.Target.ratioAtMost(SYNC_RATIO)),
              row(
                  "streaming, backpressure 1, per item",
                  stats,
                  bp1,
                  "Sluice",
                  one,
                  "RSocket request(1)",
                  TargetRow.Target.ratioAtMost(BP1_RATIO)),
              row(
                  "streaming, backpressure 16",
                  stats,
                  bp16,
                  "Sluice",
                  bpOff,
                  "Sluice backpressure off",
                  TargetRow.Target.ratioAtLeast(BP16_RATIO)),
              row(
                  "streaming, backpressure off",
                  stats,
                  bpOff,
                  "Sluice",
                  demand,
                  "RSocket default demand",
                  TargetRow.Target.ratioAtLeast(BP_OFF_RATIO)),
              new TargetRow(
                  "async normal tasks, one driver",
                  TargetRow.Series.of("Sluice", async.unit(), stats.get(async)),
                  null,
                  TargetRow.Target.valueAtLeast(ASYNC_TASKS_PER_S, async.unit())),
              row(
                  "time to first item, warm worker",
                  stats,
                  firstItem,
                  "Sluice",
                  sync,
                  "Sluice sync round trip",
                  TargetRow.Target.ratioAtMost(FIRST_ITEM_RATIO)),
              row(
                  "64 MiB items, fresh array per item, plain get() loop",
                  stats,
                  fresh,
                  "Sluice",
                  copy,
                  "memcpy (own JVM)",
                  TargetRow.Target.ratioAtLeast(LARGE_MEMCPY_RATIO)));
      return "Data path (issue 14): every peer in JVMs of its own, rounds interleaved and"
          + " mirrored (ABBA)\n\n"
          + TargetRow.table(rows).render()
          + "\nA ratio is Sluice's value in a round over its peer's in the same round (µs: lower"
          + " is better; items/s, GB/s: higher). MET: every round met the target.\n"
          + "RSocket: server and client in two JVMs of their own, TCP loopback, default"
          + " settings. memcpy: System.arraycopy of 64 MiB arrays in a JVM of its own. Sluice: a"
          + " driver JVM with its embedded cluster (idle while the peers run). The 64 MiB stream"
          + " has backpressure "
          + LargeFreshItems.BACKPRESSURE
          + "; its producer allocates and fills a new array per item.\n"
          + quickNote(o)
          + "\n"
          + BenchMain.detailsTable(stats).render()
          + "\n"
          + warmUpTable(List.of(result)).render();
    } finally {
      closeAll(processes);
    }
  }

  private static TargetRow row(
      String figure,
      Map<Measurement, Stats> stats,
      Measurement sluice,
      String sluiceLabel,
      Measurement peer,
      String peerLabel,
      TargetRow.Target target) {
    return new TargetRow(
        figure,
        TargetRow.Series.of(sluiceLabel, sluice.unit(), stats.get(sluice)),
        TargetRow.Series.of(peerLabel, peer.unit(), stats.get(peer)),
        target);
  }

  private static String quickNote(BenchOptions o) {
    return note(o, o.roundPolicy(), o.rounds());
  }

  /** The note under a group's table: its {@code rounds} rounds, whether quick, and its policy. */
  static String note(BenchOptions o, RoundPolicy policy, int rounds) {
    return String.format(
        Locale.ROOT,
        "%d rounds%s; %s.%n",
        rounds,
        o.quick() ? " of a quick run (short rounds): judge the targets on a full run" : "",
        policy.describe());
  }

  /** How each measurement's warm-up went: steady, or stopped at its limit. */
  static ResultTable warmUpTable(List<MirroredRunner.Result> results) {
    ResultTable t = new ResultTable("measurement", "warm-up");
    for (MirroredRunner.Result r : results) {
      r.warmUps().forEach((m, w) -> t.addRow(m.name(), w.describe(m.unit())));
    }
    return t;
  }

  private static List<String> specs(BenchOptions o, PeerProtocol.Spec... specs) {
    return measure(o.roundPolicy(), List.of(), specs);
  }

  /**
   * {@code measure POLICY OPTIONS... SPEC...}: the arguments of a {@link PeerMain} hosting them,
   * timed by {@code policy}.
   */
  static List<String> measure(
      RoundPolicy policy, List<String> options, PeerProtocol.Spec... specs) {
    List<String> args = new ArrayList<>(List.of("measure"));
    args.addAll(policy.args());
    args.addAll(options);
    for (PeerProtocol.Spec s : specs) {
      args.add(s.render());
    }
    return args;
  }

  static PeerProcess add(List<PeerProcess> processes, PeerProcess p) {
    processes.add(p);
    return p;
  }

  static void closeAll(List<PeerProcess> processes) {
    for (PeerProcess p : processes.reversed()) {
      p.close();
    }
  }
}
