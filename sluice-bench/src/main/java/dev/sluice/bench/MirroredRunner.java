package dev.sluice.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a peer group's measurements: each is warmed up until steady, then every round runs each
 * block of measurements that are compared with each other (e.g. Sluice's sync round trip, RSocket's
 * request-response and Sluice's time to first item) in mirrored order, A B C C B A: every member
 * runs two timed parts ({@link TimedMeasurement#runPart}) whose mean position in time is the same
 * for all members, so a drift of the machine's speed that is linear over the block cancels out of
 * their ratios in every round. A round's value of a measurement is its two parts combined ({@link
 * RoundPart#combine}). The blocks start one further along each round, and odd rounds reverse the
 * members (C B A A B C), so no measurement always follows the same other one.
 *
 * <p>Threads: runs on the caller's thread, one part at a time. Prints a line per warm-up and per
 * measurement and round.
 */
final class MirroredRunner {
  private final PrintStream out;

  MirroredRunner(PrintStream out) {
    this.out = out;
  }

  /**
   * What a run gives: every measurement's rounds, in the order of the blocks, and its warm-up.
   *
   * @param stats per measurement, its rounds' values in round order
   * @param warmUps per measurement, how its warm-up went
   * @param cpuPerOp per measurement whose parts gave their CPU time ({@link
   *     RoundPart#cpuMicrosPerOp}), its rounds' CPU microseconds per operation in round order
   */
  record Result(
      Map<Measurement, Stats> stats,
      Map<Measurement, WarmUpReport> warmUps,
      Map<Measurement, Stats> cpuPerOp) {}

  /** Warms up every measurement of {@code blocks}, then runs {@code rounds} rounds of each. */
  Result run(List<List<TimedMeasurement>> blocks, int rounds) throws Exception {
    List<TimedMeasurement> all = blocks.stream().flatMap(List::stream).toList();
    if (all.stream().distinct().count() != all.size()) {
      throw new IllegalArgumentException("a measurement is in more than one block");
    }
    Map<Measurement, WarmUpReport> warmUps = new LinkedHashMap<>();
    for (int k = 0; k < all.size(); k++) {
      TimedMeasurement m = all.get(k);
      out.printf("[warm-up %d/%d] %s%n", k + 1, all.size(), m.name());
      WarmUpReport report = m.warmUpUntilSteady();
      warmUps.put(m, report);
      out.printf("               %s%n", report.describe(m.unit()));
    }
    Map<Measurement, double[]> values = new HashMap<>();
    Map<Measurement, double[]> cpu = new HashMap<>();
    for (TimedMeasurement m : all) {
      values.put(m, new double[rounds]);
      cpu.put(m, new double[rounds]);
    }
    for (int r = 0; r < rounds; r++) {
      Map<Measurement, List<RoundPart>> parts = new HashMap<>();
      for (TimedMeasurement m : order(blocks, r)) {
        List<RoundPart> mine = parts.computeIfAbsent(m, x -> new ArrayList<>());
        mine.add(m.runPart());
        if (mine.size() == 2) {
          RoundPart round = RoundPart.combine(m.unit(), mine);
          values.get(m)[r] = round.value();
          cpu.get(m)[r] = round.cpuMicrosPerOp(m.unit());
          out.printf(
              "[round %d/%d] %-52s %s (parts %s | %s, %d batches, %.1f s)%n",
              r + 1,
              rounds,
              m.name(),
              InterleavedRunner.format(round.value(), m.unit()),
              InterleavedRunner.formatNumber(mine.get(0).value(), m.unit()),
              InterleavedRunner.formatNumber(mine.get(1).value(), m.unit()),
              round.batches(),
              round.seconds());
        }
      }
    }
    Map<Measurement, Stats> stats = new LinkedHashMap<>();
    Map<Measurement, Stats> cpuPerOp = new LinkedHashMap<>();
    for (TimedMeasurement m : all) {
      stats.put(m, Stats.of(values.get(m)));
      if (Arrays.stream(cpu.get(m)).noneMatch(Double::isNaN)) {
        cpuPerOp.put(m, Stats.of(cpu.get(m)));
      }
    }
    return new Result(stats, warmUps, cpuPerOp);
  }

  /**
   * The parts of round {@code round} (from 0), in the order they run: the blocks from block {@code
   * round mod blocks} on, each block's members forward and then backward (members reversed first in
   * odd rounds), so every measurement appears twice.
   */
  static List<TimedMeasurement> order(List<List<TimedMeasurement>> blocks, int round) {
    List<TimedMeasurement> sequence = new ArrayList<>();
    for (int b = 0; b < blocks.size(); b++) {
      List<TimedMeasurement> block = blocks.get((round + b) % blocks.size());
      List<TimedMeasurement> members = round % 2 == 0 ? block : block.reversed();
      sequence.addAll(members);
      sequence.addAll(members.reversed());
    }
    return sequence;
  }
}
