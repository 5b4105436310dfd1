package dev.sluice.bench;

import dev.sluice.ObjectRef;
import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Measurements of Sluice itself, on an embedded cluster with default settings ({@code
 * Sluice.init(SluiceConfig.builder().build())}: one prestarted worker JVM per CPU).
 *
 * <ul>
 *   <li>{@link #asyncThroughput}: submit a batch of no-op normal tasks without waiting, then get
 *       all results. It shows the owner's submit and dispatch path, pipelining included.
 *   <li>{@link #syncRoundTrip}: submit one no-op task and wait for its value before the next. It
 *       shows the latency floor of one task: submit, lease, push to the worker, run, reply.
 * </ul>
 *
 * <p>The task is {@link BenchTasks#noop}, so the work timed is the runtime's own.
 */
public final class TaskBenchmarks {
  private static final Duration FIRST_TASK_TIMEOUT = Duration.ofMinutes(2);

  private TaskBenchmarks() {}

  /**
   * Starts the embedded cluster and waits until its workers run tasks: the first task waits for a
   * worker JVM to start and register, and the next few hundred warm up both sides.
   */
  public static void startCluster(int warmUpTasks) {
    startCluster(warmUpTasks, SluiceConfig.builder().build());
  }

  /** The same with {@code config} (e.g. observability off). */
  public static void startCluster(int warmUpTasks, SluiceConfig config) {
    Sluice.init(config);
    Sluice.task(BenchTasks::noop, 0).remote().get(FIRST_TASK_TIMEOUT);
    List<ObjectRef<Integer>> refs = new ArrayList<>(warmUpTasks);
    for (int i = 0; i < warmUpTasks; i++) {
      refs.add(Sluice.task(BenchTasks::noop, i).remote());
    }
    Sluice.get(refs);
  }

  /** Throughput of {@code tasksPerRound} no-op tasks submitted at once, in tasks per second. */
  public static Measurement asyncThroughput(int tasksPerRound, int warmUpRounds) {
    return new Measurement() {
      @Override
      public String name() {
        return "sluice async tasks";
      }

      @Override
      public Unit unit() {
        return Unit.OPS_PER_SECOND;
      }

      @Override
      public void warmUp() {
        for (int i = 0; i < warmUpRounds; i++) {
          runRound();
        }
      }

      @Override
      public double runRound() {
        long t0 = System.nanoTime();
        List<ObjectRef<Integer>> refs = new ArrayList<>(tasksPerRound);
        for (int i = 0; i < tasksPerRound; i++) {
          refs.add(Sluice.task(BenchTasks::noop, i).remote());
        }
        List<Integer> values = Sluice.get(refs);
        long elapsed = System.nanoTime() - t0;
        if (values.size() != tasksPerRound || values.get(tasksPerRound - 1) != tasksPerRound - 1) {
          throw new IllegalStateException("wrong task results: " + values.size() + " values");
        }
        return tasksPerRound * 1e9 / elapsed;
      }

      @Override
      public String workPerRound() {
        return tasksPerRound + " tasks";
      }
    };
  }

  /** Latency of one no-op task, submitted and waited for, in microseconds. */
  public static Measurement syncRoundTrip(int warmUpTasks, int tasksPerRound) {
    return new RoundTripMeasurement("sluice sync task", warmUpTasks, tasksPerRound) {
      @Override
      void roundTrip(int i) {
        Integer v = Sluice.task(BenchTasks::noop, i).remote().get();
        if (v != i) {
          throw new IllegalStateException("task returned " + v + ", expected " + i);
        }
      }
    };
  }
}
