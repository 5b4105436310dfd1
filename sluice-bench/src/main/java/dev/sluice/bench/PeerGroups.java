package dev.sluice.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
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
 *   <li>{@value #OBSERVABILITY}: issue 15's cost rows. Four Sluice driver JVMs, started with {@code
 *       SluiceConfig.observability(true)}, {@code false}, {@code false}, {@code true} (each side's
 *       value is the mean of its two drivers; each pair of identical drivers is a control: the
 *       spread of identical processes), run the same async-task and stream rounds, with longer
 *       parts and warm-ups ({@link BenchOptions#observabilityPolicy()}); judged on the median of
 *       the rounds ({@link TargetRow.Target#medianDropAtMost}).
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
  static final double OBSERVABILITY_DROP = 0.05;

  private PeerGroups() {}

  /**
   * The JVM options of the observability group's drivers: a fixed heap, touched at start. On this
   * kind of machine (a VM whose host backs memory when it is first touched) a page's first touch
   * costs 8-60 µs of system time; a driver whose G1 heap grew during a timed part (1.5 to 2 GB, at
   * 25,000-37,000 page faults a second) spent 3-4 s with its consumer thread in the kernel, and
   * that part ran at a fifth of the steady rate; a stream worker whose heap grew cost the same.
   * Which process grew when was chance (a control part was hit as often as an "on" part), so it
   * measured the machine, not observability. The rows compare drivers that differ only in
   * observability; the data-path group runs its driver and workers as users do. Empty in a quick
   * run; the heap is at most an eighth of the machine's memory.
   */
  static List<String> observabilityDriverOptions(BenchOptions o) {
    return o.quick() ? List.of() : fixedHeap(8, 512, 2048);
  }

  /** The same for their workers (12 of them): at most a 32nd of the machine's memory each. */
  static List<String> observabilityWorkerOptions(BenchOptions o) {
    return o.quick() ? List.of() : fixedHeap(32, 256, 512);
  }

  /** A fixed heap of a {@code share}-th of the machine's memory, within [min, max] MiB, touched. */
  private static List<String> fixedHeap(int share, long minMib, long maxMib) {
    long total =
        ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
    long mib = Math.clamp(total / share >> 20, minMib, maxMib);
    return List.of("-Xms" + mib + "m", "-Xmx" + mib + "m", "-XX:+AlwaysPreTouch");
  }

  /** Runs the groups {@code o} names, in order, and returns their tables. */
  static String run(BenchOptions o, PrintStream out) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (String g : o.groups()) {
      sb.append(g.equals(DATAPATH) ? dataPath(o, out) : observability(o, out)).append('\n');
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
          + warmUpTable(result).render();
    } finally {
      closeAll(processes);
    }
  }

  static String observability(BenchOptions o, PrintStream out) throws Exception {
    out.println("observability group: starting four Sluice driver JVMs (on, off, off, on) ...");
    List<PeerProcess> processes = new ArrayList<>();
    try {
      // Four drivers, started on, off, off, on: a driver JVM's speed depends on the process (in
      // one run with three drivers started on, off, control, they ranked by start order, each
      // 8-12% behind the next, in every round), so each side gets one early and one late driver,
      // and a round's value of a side is the mean of its two drivers'.
      List<TimedMeasurement> on1 = sluiceWithObservability(o, out, processes, true, " #1");
      List<TimedMeasurement> off1 = sluiceWithObservability(o, out, processes, false, " #1");
      List<TimedMeasurement> off2 = sluiceWithObservability(o, out, processes, false, " #2");
      List<TimedMeasurement> on2 = sluiceWithObservability(o, out, processes, true, " #2");
      List<List<TimedMeasurement>> blocks =
          List.of(
              List.of(on1.get(0), off1.get(0), off2.get(0), on2.get(0)),
              List.of(on1.get(1), off1.get(1), off2.get(1), on2.get(1)));
      MirroredRunner.Result result = new MirroredRunner(out).run(blocks, o.rounds());
      Map<Measurement, Stats> stats = result.stats();
      TargetRow.Target target = TargetRow.Target.medianDropAtMost(OBSERVABILITY_DROP);
      TargetRow.Target cpuTarget = TargetRow.Target.medianRiseAtMost(OBSERVABILITY_DROP);
      List<TargetRow> rows = new ArrayList<>();
      String[] figures = {"async task throughput", "stream throughput, backpressure off"};
      String[] cpuFigures = {
        "CPU per task (driver and workers)", "CPU per stream item (driver and workers)"
      };
      for (int i = 0; i < 2; i++) {
        Measurement.Unit unit = on1.get(i).unit();
        Measurement.Unit cpuUnit =
            unit == Measurement.Unit.ITEMS_PER_SECOND
                ? Measurement.Unit.MICROS_PER_ITEM
                : Measurement.Unit.MICROS_PER_OP;
        List<Measurement> drivers = List.of(on1.get(i), off1.get(i), off2.get(i), on2.get(i));
        addOnOffAndControls(rows, figures[i], stats, unit, drivers, target);
        addOnOffAndControls(rows, cpuFigures[i], result.cpuPerOp(), cpuUnit, drivers, cpuTarget);
      }
      return "Cost of observability (issue 15): Sluice with observability on vs off, four driver"
          + " JVMs started on, off, off, on, rounds interleaved and mirrored\n\n"
          + TargetRow.table(rows).render()
          + "\nA ratio is the round's value with observability on (the mean of its two drivers)"
          + " over the same round's with it off (SluiceConfig.builder().observability(...)); drop ="
          + " 1 - ratio. The control rows compare two identical drivers, the second started over"
          + " the first: their spread is what this machine's noise alone does to a round's ratio,"
          + " which is why these targets are judged on the median of the rounds. CPU per task or"
          + " item is the CPU time of the driver JVM and its workers during the round's parts over"
          + " the tasks or items they ran: it moves much less than a rate when other processes"
          + " compete for the machine."
          + " All clusters stay up; those not measured are idle.\n"
          + note(o, o.observabilityPolicy())
          + "\n"
          + BenchMain.detailsTable(stats).render()
          + "\n"
          + warmUpTable(result).render();
    } finally {
      closeAll(processes);
    }
  }

  private static List<TimedMeasurement> sluiceWithObservability(
      BenchOptions o, PrintStream out, List<PeerProcess> processes, boolean on, String suffix)
      throws Exception {
    String state = (on ? "on" : "off") + suffix;
    List<String> options =
        new ArrayList<>(
            List.of(
                "--observability",
                on ? "on" : "off",
                "--warmup-tasks",
                Integer.toString(o.clusterWarmUpTasks())));
    for (String option : observabilityWorkerOptions(o)) {
      options.add("--worker-jvm-option");
      options.add(option);
    }
    List<String> args =
        measure(
            o.observabilityPolicy(),
            options,
            PeerProtocol.Spec.of("sluice-async", "tasks", o.tasks()),
            PeerProtocol.Spec.of("sluice-stream", "bp", -1, "items", o.streamItems()));
    PeerProcess p =
        add(
            processes,
            PeerProcess.start(
                "Sluice driver JVM, observability " + state,
                out,
                observabilityDriverOptions(o),
                args));
    return p.measurements(", observability " + state);
  }

  /**
   * Adds the rows of {@code figure} from {@code values} (in {@code unit}) of the {@code drivers}
   * started on, off, off, on: observability on (per round, the mean of its two drivers) over off
   * (the same), then the two controls, each driver over the identical one started before it.
   */
  private static void addOnOffAndControls(
      List<TargetRow> rows,
      String figure,
      Map<Measurement, Stats> values,
      Measurement.Unit unit,
      List<Measurement> drivers,
      TargetRow.Target target) {
    Measurement on1 = drivers.get(0);
    Measurement off1 = drivers.get(1);
    Measurement off2 = drivers.get(2);
    Measurement on2 = drivers.get(3);
    if (drivers.stream().allMatch(values::containsKey)) {
      rows.add(
          new TargetRow(
              figure,
              TargetRow.Series.of("on", unit, meanPerRound(values.get(on1), values.get(on2))),
              TargetRow.Series.of("off", unit, meanPerRound(values.get(off1), values.get(off2))),
              target));
    }
    String control = "control: " + figure;
    addOver(
        rows, control + ", off #2 vs off #1", values, unit, off2, "off #2", off1, "off #1", target);
    addOver(rows, control + ", on #2 vs on #1", values, unit, on2, "on #2", on1, "on #1", target);
  }

  /** Per round, the mean of {@code a}'s and {@code b}'s values. */
  static Stats meanPerRound(Stats a, Stats b) {
    int n = Math.min(a.values().size(), b.values().size());
    double[] mean = new double[n];
    for (int r = 0; r < n; r++) {
      mean[r] = (a.values().get(r) + b.values().get(r)) / 2;
    }
    return Stats.of(mean);
  }

  /** Adds the row of {@code m} over {@code peer}, unless {@code values} lacks either of them. */
  private static void addOver(
      List<TargetRow> rows,
      String figure,
      Map<Measurement, Stats> values,
      Measurement.Unit unit,
      Measurement m,
      String label,
      Measurement peer,
      String peerLabel,
      TargetRow.Target target) {
    if (values.containsKey(m) && values.containsKey(peer)) {
      rows.add(
          new TargetRow(
              figure,
              TargetRow.Series.of(label, unit, values.get(m)),
              TargetRow.Series.of(peerLabel, unit, values.get(peer)),
              target));
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
    return note(o, o.roundPolicy());
  }

  private static String note(BenchOptions o, RoundPolicy policy) {
    return String.format(
        Locale.ROOT,
        "%d rounds%s; %s.%n",
        o.rounds(),
        o.quick() ? " of a quick run (short rounds): judge the targets on a full run" : "",
        policy.describe());
  }

  /** How each measurement's warm-up went: steady, or stopped at its limit. */
  static ResultTable warmUpTable(MirroredRunner.Result result) {
    ResultTable t = new ResultTable("measurement", "warm-up");
    result.warmUps().forEach((m, w) -> t.addRow(m.name(), w.describe(m.unit())));
    return t;
  }

  private static List<String> specs(BenchOptions o, PeerProtocol.Spec... specs) {
    return measure(o.roundPolicy(), List.of(), specs);
  }

  /**
   * {@code measure POLICY OPTIONS... SPEC...}: the arguments of a {@link PeerMain} hosting them,
   * timed by {@code policy}.
   */
  private static List<String> measure(
      RoundPolicy policy, List<String> options, PeerProtocol.Spec... specs) {
    List<String> args = new ArrayList<>(List.of("measure"));
    args.addAll(policy.args());
    args.addAll(options);
    for (PeerProtocol.Spec s : specs) {
      args.add(s.render());
    }
    return args;
  }

  private static PeerProcess add(List<PeerProcess> processes, PeerProcess p) {
    processes.add(p);
    return p;
  }

  private static void closeAll(List<PeerProcess> processes) {
    for (PeerProcess p : processes.reversed()) {
      p.close();
    }
  }
}
