package dev.sluice.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The bench group {@value PeerGroups#OBSERVABILITY}: issue 15's cost rows, Sluice with {@code
 * SluiceConfig.observability(true)} against {@code false}, async task throughput and stream
 * throughput (backpressure off), and the CPU per task and per item of each.
 *
 * <p>Why it is built the way it is (each measured on this kind of machine, see the bench README): a
 * driver JVM's speed depends on when it was started among the drivers alive at once (with three
 * drivers, they ranked by start order in every round, each 8-12% behind the next; the first-started
 * one is the slowest, and more so as the run goes on), by more than the 5% the target allows. So
 * the group runs twice, each time with four drivers alive at once, in the start orders {@link
 * #START_ORDERS}: on, off, off, on, then off, on, on, off. Each side holds every start position
 * once in each pair of runs; a round's value of a side is the mean of its two drivers in that
 * round; the rows put the rounds of both runs side by side. Control rows compare the identical
 * drivers of a side (the later-started over the earlier): what the machine alone does to two
 * identical drivers, which is why these targets are judged on the median of the rounds. Before each
 * part, a driver collects its garbage and waits until its cluster is quiet ({@link RoundSettling},
 * untimed): otherwise the garbage earlier parts left in its old generation moved its CPU per task
 * by more than 5%.
 *
 * <p>Threads: everything runs on the caller's thread, one command at a time.
 */
final class ObservabilityGroup {
  /** The cost budget: a drop of throughput, or a rise of CPU per operation, of at most 5%. */
  static final double DROP = 0.05;

  /**
   * The two runs' start orders of their four drivers, true meaning observability on: between them,
   * each side is started first, second, third and fourth once.
   */
  static final List<List<Boolean>> START_ORDERS =
      List.of(List.of(true, false, false, true), List.of(false, true, true, false));

  private static final String[] FIGURES = {
    "async task throughput", "stream throughput, backpressure off"
  };

  private static final String[] CPU_FIGURES = {
    "CPU per task (driver and workers)", "CPU per stream item (driver and workers)"
  };

  private ObservabilityGroup() {}

  /**
   * The JVM options of the group's drivers: a fixed heap, touched at start. On this kind of machine
   * (a VM whose host backs memory when it is first touched) a page's first touch costs 8-60 µs of
   * system time; a driver whose G1 heap grew during a timed part (1.5 to 2 GB, at 25,000-37,000
   * page faults a second) spent 3-4 s with its consumer thread in the kernel, and that part ran at
   * a fifth of the steady rate; a stream worker whose heap grew cost the same. Which process grew
   * when was chance (a control part was hit as often as an "on" part), so it measured the machine,
   * not observability. The rows compare drivers that differ only in observability; the data-path
   * group runs its driver and workers as users do. Empty in a quick run; the heap is at most an
   * eighth of the machine's memory.
   */
  static List<String> driverOptions(BenchOptions o) {
    return o.quick() ? List.of() : fixedHeap(8, 512, 2048);
  }

  /** The same for their workers (three per driver): at most a 32nd of the machine's memory each. */
  static List<String> workerOptions(BenchOptions o) {
    return o.quick() ? List.of() : fixedHeap(32, 256, 512);
  }

  /** A fixed heap of a {@code share}-th of the machine's memory, within [min, max] MiB, touched. */
  private static List<String> fixedHeap(int share, long minMib, long maxMib) {
    long total =
        ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
    long mib = Math.clamp(total / share >> 20, minMib, maxMib);
    return List.of("-Xms" + mib + "m", "-Xmx" + mib + "m", "-XX:+AlwaysPreTouch");
  }

  /** Rounds of each run: half of {@code rounds}, rounded up, so both runs weigh the same. */
  static int roundsPerRun(int rounds) {
    return (rounds + 1) / 2;
  }

  /** Per round, the mean of {@code a}'s and {@code b}'s values. */
  static List<Double> meanPerRound(Stats a, Stats b) {
    int n = Math.min(a.values().size(), b.values().size());
    List<Double> mean = new ArrayList<>(n);
    for (int r = 0; r < n; r++) {
      mean.add((a.values().get(r) + b.values().get(r)) / 2);
    }
    return mean;
  }

  /** Runs the group and returns its table. */
  static String run(BenchOptions o, PrintStream out) throws Exception {
    List<Run> runs = new ArrayList<>();
    for (int k = 0; k < START_ORDERS.size(); k++) {
      runs.add(runOnce(o, out, k));
    }
    TargetRow.Target target = TargetRow.Target.medianDropAtMost(DROP);
    TargetRow.Target cpuTarget = TargetRow.Target.medianRiseAtMost(DROP);
    List<TargetRow> rows = new ArrayList<>();
    for (int i = 0; i < FIGURES.length; i++) {
      Measurement.Unit unit = runs.get(0).drivers(true, i).get(0).unit();
      Measurement.Unit cpuUnit =
          unit == Measurement.Unit.ITEMS_PER_SECOND
              ? Measurement.Unit.MICROS_PER_ITEM
              : Measurement.Unit.MICROS_PER_OP;
      addRows(rows, FIGURES[i], runs, i, r -> r.result.stats(), unit, target);
      addRows(rows, CPU_FIGURES[i], runs, i, r -> r.result.cpuPerOp(), cpuUnit, cpuTarget);
    }
    Map<Measurement, Stats> stats = new LinkedHashMap<>();
    for (Run r : runs) {
      stats.putAll(r.result.stats());
    }
    return "Cost of observability (issue 15): Sluice with observability on vs off, two runs of"
        + " four driver JVMs (started "
        + String.join(", then ", START_ORDERS.stream().map(ObservabilityGroup::order).toList())
        + "), rounds interleaved and mirrored\n\n"
        + TargetRow.table(rows).render()
        + "\nA ratio is the round's value with observability on (the mean of its two drivers)"
        + " over the same round's with it off (SluiceConfig.builder().observability(...)); drop ="
        + " 1 - ratio; the first run's rounds, then the second's. The control rows compare two"
        + " identical drivers, the later-started over the earlier: their spread is what this"
        + " machine's noise alone does to a round's ratio, which is why these targets are judged"
        + " on the median of the rounds. CPU per task or item is the CPU time of the driver JVM"
        + " and its workers during the round's parts over the tasks or items they ran: it moves"
        + " much less than a rate when other processes compete for the machine. All clusters of"
        + " a run stay up; those not measured are idle.\n"
        + PeerGroups.note(o, o.observabilityPolicy(), roundsPerRun(o.rounds()) * runs.size())
        + "\n"
        + BenchMain.detailsTable(stats).render()
        + "\n"
        + PeerGroups.warmUpTable(runs.stream().map(Run::result).toList()).render();
  }

  /** One run: its drivers' measurements in start order, which side each is, and the result. */
  private record Run(
      List<List<TimedMeasurement>> measurements,
      List<Boolean> sides,
      MirroredRunner.Result result) {
    /** Figure {@code figure} of the drivers of side {@code on}, in start order. */
    List<Measurement> drivers(boolean on, int figure) {
      List<Measurement> out = new ArrayList<>();
      for (int d = 0; d < sides.size(); d++) {
        if (sides.get(d) == on) {
          out.add(measurements.get(d).get(figure));
        }
      }
      return out;
    }
  }

  private static Run runOnce(BenchOptions o, PrintStream out, int k) throws Exception {
    List<Boolean> sides = START_ORDERS.get(k);
    String run = " (run " + (k + 1) + ")";
    out.println(
        "observability group, run "
            + (k + 1)
            + " of "
            + START_ORDERS.size()
            + ": starting four Sluice driver JVMs ("
            + order(sides)
            + ") ...");
    List<PeerProcess> processes = new ArrayList<>();
    try {
      List<List<TimedMeasurement>> drivers = new ArrayList<>();
      int[] started = new int[2];
      for (boolean on : sides) {
        int rank = ++started[on ? 1 : 0];
        drivers.add(driver(o, out, processes, on, " #" + rank + run));
      }
      List<List<TimedMeasurement>> blocks = new ArrayList<>();
      for (int i = 0; i < FIGURES.length; i++) {
        List<TimedMeasurement> block = new ArrayList<>();
        for (List<TimedMeasurement> d : drivers) {
          block.add(d.get(i));
        }
        blocks.add(block);
      }
      MirroredRunner.Result result = new MirroredRunner(out).run(blocks, roundsPerRun(o.rounds()));
      return new Run(drivers, sides, result);
    } finally {
      PeerGroups.closeAll(processes);
    }
  }

  /** A start order as the table and the progress lines print it: "on, off, off, on". */
  private static String order(List<Boolean> sides) {
    return String.join(", ", sides.stream().map(ObservabilityGroup::side).toList());
  }

  private static String side(boolean on) {
    return on ? "on" : "off";
  }

  private static List<TimedMeasurement> driver(
      BenchOptions o, PrintStream out, List<PeerProcess> processes, boolean on, String suffix)
      throws Exception {
    String state = side(on) + suffix;
    PeerProcess p =
        PeerGroups.add(
            processes,
            PeerProcess.start(
                "Sluice driver JVM, observability " + state,
                out,
                driverOptions(o),
                driverArgs(o, on)));
    return p.measurements(", observability " + state);
  }

  /**
   * The arguments of a driver JVM of side {@code on}: its observability (and, if the run sets one,
   * its rate of recorded task attempts), its workers' options, the settling before each part
   * ({@link RoundSettling}), and its two measurements.
   */
  static List<String> driverArgs(BenchOptions o, boolean on) {
    List<String> options =
        new ArrayList<>(
            List.of(
                "--observability",
                side(on),
                "--warmup-tasks",
                Integer.toString(o.clusterWarmUpTasks()),
                PeerMain.SETTLE_BEFORE_ROUND));
    if (on && o.taskEventsPerSecond() >= 0) {
      options.add("--task-events-per-second");
      options.add(Integer.toString(o.taskEventsPerSecond()));
    }
    for (String option : workerOptions(o)) {
      options.add("--worker-jvm-option");
      options.add(option);
    }
    return PeerGroups.measure(
        o.observabilityPolicy(),
        options,
        PeerProtocol.Spec.of("sluice-async", "tasks", o.tasks()),
        PeerProtocol.Spec.of("sluice-stream", "bp", -1, "items", o.streamItems()));
  }

  /** Which value of a side's two drivers a series takes, round by round. */
  private enum Pick {
    /** The mean of the two. */
    MEAN,
    /** The one started first. */
    EARLIER,
    /** The one started second. */
    LATER
  }

  /**
   * Adds the rows of {@code figure} from the {@code values} (in {@code unit}) of every run: on (per
   * round, the mean of its two drivers) over off (the same), then the two controls, each side's
   * later-started driver over its earlier one. A row is left out when a run lacks a value of it.
   */
  private static void addRows(
      List<TargetRow> rows,
      String figure,
      List<Run> runs,
      int i,
      Function<Run, Map<Measurement, Stats>> values,
      Measurement.Unit unit,
      TargetRow.Target target) {
    List<Double> on = series(runs, i, values, true, Pick.MEAN);
    List<Double> off = series(runs, i, values, false, Pick.MEAN);
    add(rows, figure, unit, target, "on", on, "off", off);
    for (boolean side : new boolean[] {false, true}) {
      String name = side(side);
      add(
          rows,
          "control: " + figure + ", " + name + " #2 vs " + name + " #1",
          unit,
          target,
          name + " #2",
          series(runs, i, values, side, Pick.LATER),
          name + " #1",
          series(runs, i, values, side, Pick.EARLIER));
    }
  }

  /**
   * Side {@code on}'s values of figure {@code i}, the first run's rounds then the second's, as
   * {@code pick} takes them from its two drivers; null if a run lacks one of them.
   */
  private static List<Double> series(
      List<Run> runs, int i, Function<Run, Map<Measurement, Stats>> values, boolean on, Pick pick) {
    List<Double> out = new ArrayList<>();
    for (Run r : runs) {
      Map<Measurement, Stats> v = values.apply(r);
      List<Measurement> pair = r.drivers(on, i);
      if (!v.keySet().containsAll(pair)) {
        return null;
      }
      Stats earlier = v.get(pair.get(0));
      Stats later = v.get(pair.get(1));
      out.addAll(
          switch (pick) {
            case MEAN -> meanPerRound(earlier, later);
            case EARLIER -> earlier.values();
            case LATER -> later.values();
          });
    }
    return out;
  }

  private static void add(
      List<TargetRow> rows,
      String figure,
      Measurement.Unit unit,
      TargetRow.Target target,
      String label,
      List<Double> values,
      String peerLabel,
      List<Double> peerValues) {
    if (values != null && peerValues != null) {
      rows.add(
          new TargetRow(
              figure,
              new TargetRow.Series(label, unit, values),
              new TargetRow.Series(peerLabel, unit, peerValues),
              target));
    }
  }
}
