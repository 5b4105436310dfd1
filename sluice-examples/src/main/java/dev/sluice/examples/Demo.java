package dev.sluice.examples;

import dev.sluice.ObjectBuffer;
import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.ObjectStoreStats;
import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import dev.sluice.TaskException;
import dev.sluice.TaskOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;

/**
 * The demo the README runs: starts an embedded Sluice cluster (worker JVMs on this machine), fans
 * work out to remote tasks, chains results through {@link ObjectRef}s, runs tasks that submit
 * tasks, shows how a remote failure comes back, and streams items out of running tasks with
 * streaming generators, with and without backpressure, and ends with a model-server actor that
 * streams tokens to concurrent requests ({@link ActorsDemo}).
 */
public final class Demo {
  private Demo() {}

  /** One Monte-Carlo sample batch: where it ran and what it found. */
  public record Batch(long pid, String worker, long samples, long inside, long millis) {}

  /** Throws darts at the unit square; counts those inside the quarter circle. */
  static Batch sample(long samples) {
    long t0 = System.nanoTime();
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    long inside = 0;
    for (long i = 0; i < samples; i++) {
      double x = rnd.nextDouble();
      double y = rnd.nextDouble();
      if (x * x + y * y <= 1) {
        inside++;
      }
    }
    return new Batch(
        ProcessHandle.current().pid(),
        Sluice.runtimeContext().workerId().hex().substring(0, 8),
        samples,
        inside,
        (System.nanoTime() - t0) / 1_000_000);
  }

  static long sumRange(long from, long to) {
    long s = 0;
    for (long i = from; i < to; i++) {
      s += i;
    }
    return s;
  }

  /** Splits a range in two sub-tasks until it is small: tasks submitting tasks. */
  static long treeSum(long from, long to) {
    if (to - from <= 1_000_000) {
      return sumRange(from, to);
    }
    long mid = (from + to) / 2;
    ObjectRef<Long> left = Sluice.task(Demo::treeSum, from, mid).remote();
    ObjectRef<Long> right = Sluice.task(Demo::treeSum, mid, to).remote();
    return left.get() + right.get();
  }

  static int scale(int[] values, int factor) {
    int s = 0;
    for (int v : values) {
      s += v * factor;
    }
    return s;
  }

  static int divide(int a, int b) {
    return a / b;
  }

  /** A streaming generator, like a language model emitting tokens: one word every few ms. */
  static Iterator<String> tokens(String text, int delayMillis) {
    Iterator<String> words = Arrays.asList(text.split(" ")).iterator();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return words.hasNext();
      }

      @Override
      public String next() {
        try {
          Thread.sleep(delayMillis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("cancelled", e);
        }
        return words.next();
      }
    };
  }

  /** Large binary chunks, like a data pipeline's batches: {@code n} arrays of {@code size}. */
  static Iterator<byte[]> chunks(int n, int size) {
    return IntStream.range(0, n)
        .mapToObj(
            i -> {
              byte[] chunk = new byte[size];
              Arrays.fill(chunk, (byte) i);
              return chunk;
            })
        .iterator();
  }

  /** A long scan: yields {@code n} batches of numbers. */
  static Iterator<long[]> scan(int n) {
    return IntStream.range(0, n).mapToObj(i -> new long[] {i, (long) i * i}).iterator();
  }

  /** Runs the demo. */
  public static void main(String[] args) {
    long start = System.nanoTime();
    int cpus = Runtime.getRuntime().availableProcessors();
    System.out.printf(
        "Starting an embedded Sluice cluster: control service, one node manager, "
            + "%d worker JVM(s)...%n",
        cpus);
    Sluice.init(SluiceConfig.builder().build());
    try {
      System.out.printf(
          "Driver: job %s, pid %d%n%n",
          Sluice.runtimeContext().jobId().hex(), ProcessHandle.current().pid());

      System.out.println("1. Fan-out: estimate pi with 8 remote tasks of 2M samples each");
      long t1 = System.nanoTime();
      List<ObjectRef<Batch>> refs = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        refs.add(Sluice.task(Demo::sample, 2_000_000L).remote());
      }
      long inside = 0;
      long samples = 0;
      List<Batch> batches = Sluice.get(refs);
      for (int i = 0; i < batches.size(); i++) {
        Batch b = batches.get(i);
        System.out.printf(
            "   task %d ran on worker %s (pid %d) in %d ms%n", i, b.worker(), b.pid(), b.millis());
        inside += b.inside();
        samples += b.samples();
      }
      System.out.printf(
          "   pi ~ %.5f from %,d samples, %d ms wall time (first call includes "
              + "worker warm-up)%n%n",
          4.0 * inside / samples, samples, ms(t1));

      System.out.println("2. Objects: put an array once, pass its ref to 4 tasks");
      long t2 = System.nanoTime();
      int[] values = new int[10_000];
      for (int i = 0; i < values.length; i++) {
        values[i] = i;
      }
      ObjectRef<int[]> data = Sluice.put(values);
      List<ObjectRef<Integer>> scaled = new ArrayList<>();
      for (int f = 1; f <= 4; f++) {
        scaled.add(Sluice.task(Demo::scale, data, f).remote());
      }
      System.out.printf("   results %s in %d ms%n%n", Sluice.get(scaled), ms(t2));

      System.out.println(
          "3. Nested tasks: a task that splits a sum over 2M numbers into two sub-tasks");
      long t3 = System.nanoTime();
      long sum = Sluice.task(Demo::treeSum, 0L, 2_000_000L).remote().get();
      System.out.printf(
          "   sum = %,d (expected %,d) in %d ms%n%n", sum, 2_000_000L * 1_999_999L / 2, ms(t3));

      System.out.println("4. Failures travel back: a task that divides by zero");
      try {
        Sluice.task(Demo::divide, 1, 0).remote().get();
      } catch (TaskException e) {
        System.out.printf(
            "   caught TaskException: %s%n   cause: %s%n%n",
            firstLine(e.getMessage()), e.getCause());
      }

      System.out.println(
          "5. Streaming generator: a remote task yields words; each arrives as an"
              + " ObjectRef while the task still runs");
      long t6 = System.nanoTime();
      System.out.print("  ");
      long firstMs = -1;
      try (ObjectRefGenerator<String> gen =
          Sluice.generator(
                  Demo::tokens, "streams flow from workers to the driver one object at a time", 40)
              .remote()) {
        for (ObjectRef<String> word : gen) {
          if (firstMs < 0) {
            firstMs = ms(t6);
          }
          System.out.print(" " + word.get());
          System.out.flush();
        }
      }
      System.out.printf(
          "%n   first word after %d ms, all in %d ms (the task sleeps 40 ms per " + "word)%n%n",
          firstMs, ms(t6));

      System.out.println("6. Backpressure: a 20,000-item scan with at most 64 items unconsumed");
      long t7 = System.nanoTime();
      long total = 0;
      try (ObjectRefGenerator<long[]> gen =
          Sluice.generator(Demo::scan, 20_000)
              .options(TaskOptions.builder().generatorBackpressureNumObjects(64).build())
              .remote()) {
        for (ObjectRef<long[]> batch : gen) {
          total += batch.get()[1];
        }
      }
      long ms7 = Math.max(1, ms(t7));
      System.out.printf(
          "   sum of squares %,d; %,d items in %d ms (%,d items/s)%n%n",
          total, 20_000, ms7, 20_000_000L / ms7);

      System.out.println("7. Throughput: 10,000 tiny tasks");
      long t5 = System.nanoTime();
      List<ObjectRef<Integer>> tiny = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) {
        tiny.add(Sluice.task(Demo::divide, i, 1).remote());
      }
      Sluice.get(tiny);
      long ms5 = Math.max(1, ms(t5));
      System.out.printf("   10,000 tasks in %d ms (%,d tasks/s)%n%n", ms5, 10_000_000L / ms5);

      System.out.println(
          "8. Large objects: 16 chunks of 32 MiB streamed through the node's shared"
              + " memory, read in place");
      long t8 = System.nanoTime();
      long checksum = 0;
      try (ObjectRefGenerator<byte[]> gen =
          Sluice.generator(Demo::chunks, 16, 32 << 20)
              .options(TaskOptions.builder().generatorBackpressureNumObjects(2).build())
              .remote()) {
        for (ObjectRef<byte[]> chunk : gen) {
          try (ObjectBuffer view = Sluice.getBuffer(chunk)) {
            checksum += view.asByteBuffer().get((int) view.size() - 1);
          }
        }
      }
      long ms8 = Math.max(1, ms(t8));
      ObjectStoreStats store = Sluice.objectStoreStats();
      System.out.printf(
          "   512 MiB in %d ms (%,d MiB/s), checksum %d; the store holds %d "
              + "objects (%,d MiB of %,d MiB) until the collector finds their dropped refs%n%n",
          ms8,
          512_000L / ms8,
          checksum,
          store.sharedMemoryObjects(),
          store.sharedMemoryUsedBytes() >> 20,
          store.sharedMemoryCapacityBytes() >> 20);

      ActorsDemo.run();
    } finally {
      Sluice.shutdown();
    }
    System.out.printf("Done in %d ms; all worker processes stopped.%n", ms(start));
  }

  private static long ms(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
