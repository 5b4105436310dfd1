package dev.sluice.bench;

import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.Sluice;
import dev.sluice.TaskOptions;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Measurements of Sluice's streaming generators on the embedded cluster, with {@link
 * BenchTasks#range} as the generator (small ints, each available at once, so the time is the
 * runtime's own):
 *
 * <ul>
 *   <li>{@link #throughput}: one stream worker → driver; the driver iterates the {@link
 *       ObjectRefGenerator} and {@code get()}s every item. Every item is a real object with an id
 *       and an owner, reported to the driver and stored there.
 *   <li>{@link #timeToFirstItem}: {@code remote()} → the first item's value, on a warm worker.
 *   <li>{@link #idleStreamMemory}: the driver's heap per open, idle stream.
 * </ul>
 */
public final class StreamBenchmarks {
  private StreamBenchmarks() {}

  /**
   * Items per second (or, with {@code perItem}, microseconds per item) of one stream of {@code
   * itemsPerRound} items with backpressure {@code backpressure} (-1 = off).
   */
  public static Measurement throughput(
      int backpressure, int itemsPerRound, int warmUpRounds, boolean perItem) {
    String name =
        "sluice stream, backpressure "
            + (backpressure < 0 ? "off" : Integer.toString(backpressure));
    TaskOptions options =
        TaskOptions.builder().generatorBackpressureNumObjects(backpressure).build();
    return new ItemStreamMeasurement(
        name,
        itemsPerRound,
        warmUpRounds,
        perItem ? Measurement.Unit.MICROS_PER_ITEM : Measurement.Unit.ITEMS_PER_SECOND) {
      /**
       * Runs each warm-up stream on every worker the node may lease, not only on the one that
       * sequential streams keep getting. Which worker a timed round's stream gets depends on lease
       * timing (e.g. right after a round of tasks, whose leases are still held, it gets another
       * one); a worker that has never run the stream path compiles it then, at up to 0.8 of a core
       * for 2-3 s on this machine, and that part ran at about half the steady rate.
       */
      @Override
      public void warmUp() throws Exception {
        int workers = Math.max(2, Runtime.getRuntime().availableProcessors());
        for (int i = 0; i < warmUpRounds; i++) {
          concurrently(
              workers,
              () -> {
                stream(itemsPerRound);
                return null;
              });
        }
      }

      @Override
      void stream(int n) {
        long count = 0;
        try (ObjectRefGenerator<Integer> gen =
            Sluice.generator(BenchTasks::range, n).options(options).remote()) {
          for (ObjectRef<Integer> ref : gen) {
            checkItem(name, count, ref.get());
            count++;
          }
        }
        checkCount(name, count, n);
      }
    };
  }

  /** Runs {@code body} on {@code threads} threads at once and waits for all of them. */
  private static void concurrently(int threads, Callable<?> body) throws Exception {
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> runs = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        runs.add(pool.submit(body));
      }
      for (Future<?> run : runs) {
        try {
          run.get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof Exception cause) {
            throw cause;
          }
          throw e;
        }
      }
    }
  }

  /**
   * Microseconds from {@code remote()} of a generator whose first item is immediate ({@code
   * range(1)}) to that item's value in the driver; each round gives the median of its {@code
   * samplesPerRound} streams. Each stream's task is waited for before the next, so every sample
   * finds a warm, idle worker.
   */
  public static Measurement timeToFirstItem(int warmUpSamples, int samplesPerRound) {
    return new Measurement() {
      @Override
      public String name() {
        return "sluice stream time to first item";
      }

      @Override
      public Unit unit() {
        return Unit.MICROS_PER_OP;
      }

      @Override
      public void warmUp() {
        sample(warmUpSamples);
      }

      @Override
      public double runRound() {
        return Stats.of(sample(samplesPerRound)).median();
      }

      private double[] sample(int samples) {
        double[] micros = new double[samples];
        for (int i = 0; i < samples; i++) {
          long t0 = System.nanoTime();
          try (ObjectRefGenerator<Integer> gen = Sluice.generator(BenchTasks::range, 1).remote()) {
            Integer first = gen.next().get();
            micros[i] = (System.nanoTime() - t0) / 1_000.0;
            if (first != 0) {
              throw new IllegalStateException("first item is " + first + ", expected 0");
            }
            gen.completed().get();
          }
        }
        return micros;
      }

      @Override
      public String workPerRound() {
        return samplesPerRound + " streams, median of them";
      }
    };
  }

  /**
   * The driver heap still held, per item, after one stream of {@code itemsPerRound} items
   * (backpressure off) was consumed to the end, every item's value read, and the generator closed
   * and dropped: what a consumed item costs the owner for good. Heap is measured after forced GCs
   * before and after the stream.
   */
  public static Measurement retainedPerConsumedItem(int itemsPerRound) {
    Measurement stream = throughput(-1, itemsPerRound, 0, false);
    return new Measurement() {
      @Override
      public String name() {
        return "sluice owner heap kept per consumed item";
      }

      @Override
      public Unit unit() {
        return Unit.BYTES;
      }

      @Override
      public void warmUp() throws Exception {
        runRound();
      }

      @Override
      public double runRound() throws Exception {
        long before = usedHeapAfterGc();
        stream.runRound();
        long after = usedHeapAfterGc();
        return (double) (after - before) / itemsPerRound;
      }

      @Override
      public String workPerRound() {
        return stream.workPerRound() + ", consumed and closed";
      }
    };
  }

  /** The figures of {@link #idleStreamMemory}, per round. */
  public static final class IdleStreamMemory implements Measurement {
    private final int streams;
    private final List<Double> closedHeld = new ArrayList<>();
    private final List<Double> closedDropped = new ArrayList<>();
    private final List<Double> submitRate = new ArrayList<>();

    IdleStreamMemory(int streams) {
      this.streams = streams;
    }

    @Override
    public String name() {
      return "sluice owner heap per idle stream";
    }

    @Override
    public Unit unit() {
      return Unit.BYTES;
    }

    @Override
    public void warmUp() throws InterruptedException {
      measure(false);
    }

    @Override
    public double runRound() throws InterruptedException {
      return measure(true);
    }

    /**
     * Opens {@code streams} generators of {@code range(0)}, waits until every task has ended, and
     * returns the driver heap they hold, per stream; then closes them (the heap they still hold
     * while referenced) and drops them (what stays behind for good).
     */
    private double measure(boolean record) throws InterruptedException {
      long before = usedHeapAfterGc();
      long t0 = System.nanoTime();
      List<ObjectRefGenerator<Integer>> open = new ArrayList<>(streams);
      List<ObjectRef<Void>> completed = new ArrayList<>(streams);
      for (int i = 0; i < streams; i++) {
        ObjectRefGenerator<Integer> gen = Sluice.generator(BenchTasks::range, 0).remote();
        open.add(gen);
        completed.add(gen.completed());
      }
      Sluice.get(completed);
      double rate = streams * 1e9 / (System.nanoTime() - t0);
      completed = null;
      long held = usedHeapAfterGc();
      for (ObjectRefGenerator<Integer> gen : open) {
        gen.close();
      }
      long closed = usedHeapAfterGc();
      // Still referenced while "closed" is measured, even where the JIT sees no later use.
      Reference.reachabilityFence(open);
      open = null;
      long dropped = usedHeapAfterGc();
      if (record) {
        closedHeld.add((double) (closed - before) / streams);
        closedDropped.add((double) (dropped - before) / streams);
        submitRate.add(rate);
      }
      return (double) (held - before) / streams;
    }

    /** Per round: heap per stream after {@code close()}, the generator objects still held. */
    public Stats closedHeld() {
      return stats(closedHeld);
    }

    /** Per round: heap per stream left once the closed generators were dropped too. */
    public Stats closedDropped() {
      return stats(closedDropped);
    }

    /** Per round: generator tasks submitted and completed per second while opening them. */
    public Stats submitRate() {
      return stats(submitRate);
    }

    private static Stats stats(List<Double> values) {
      return Stats.of(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    @Override
    public String workPerRound() {
      return String.format(Locale.ROOT, "%,d streams", streams);
    }
  }

  /**
   * The driver's heap per open, idle stream. "Idle stream" here: an {@link ObjectRefGenerator} the
   * caller holds open (not closed, not exhausted) whose task has ended without an item ({@code
   * range(0)}), so what is measured is the owner-side stream state, not items and not a running
   * task (10,000 running tasks would need 10,000 worker processes). Heap is measured after forced
   * GCs, before and after opening {@code streams} of them.
   */
  public static IdleStreamMemory idleStreamMemory(int streams) {
    return new IdleStreamMemory(streams);
  }

  /** Used heap after full GCs, once two readings in a row agree within 64 KiB. */
  static long usedHeapAfterGc() throws InterruptedException {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long[] readings = new long[8];
    long previous = Long.MIN_VALUE;
    for (int i = 0; i < readings.length; i++) {
      System.gc();
      Thread.sleep(40);
      long used = memory.getHeapMemoryUsage().getUsed();
      readings[i] = used;
      if (Math.abs(used - previous) < 64 << 10) {
        return Math.min(used, previous);
      }
      previous = used;
    }
    return Arrays.stream(readings).min().orElseThrow();
  }
}
