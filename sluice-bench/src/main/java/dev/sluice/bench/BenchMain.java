package dev.sluice.bench;

import dev.sluice.Sluice;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs every measurement in one JVM and prints two tables comparing Sluice with transport peers
 * measured on the same machine in the same run.
 *
 * <p>Tasks:
 *
 * <ol>
 *   <li>Sluice async normal-task throughput (absolute, target {@value #ASYNC_TARGET_TASKS_PER_S}
 *       tasks/s);
 *   <li>Sluice sync task round trip, as a ratio to the RSocket round trip (target at most {@value
 *       #SYNC_TARGET_RATIO}x);
 *   <li>grpc-java unary round trips with the runtime's channel settings and with gRPC's defaults;
 *   <li>a grpc-java bidirectional-stream ping-pong with the runtime's settings;
 *   <li>the RSocket-java request-response round trip, the baseline of the ratios.
 * </ol>
 *
 * <p>Streams (see {@link StreamBenchmarks}, {@link RSocketStreamBaseline}, {@link
 * GrpcStreamBaseline}):
 *
 * <ol>
 *   <li>one Sluice stream of small items worker → driver with backpressure off, as a ratio to
 *       RSocket request-stream with default demand (target at least {@value
 *       #STREAM_OFF_TARGET_RATIO}x its items/s);
 *   <li>the same with backpressure 1, per item, as a ratio to RSocket with {@code request(1)} per
 *       item (target at most {@value #STREAM_ONE_TARGET_RATIO}x its µs per item);
 *   <li>the same with backpressure 16, and grpc-java server streaming (one message per item);
 *   <li>time to first item on a warm worker, next to a gRPC unary round trip;
 *   <li>the driver's heap per open idle stream (target at most {@value #IDLE_STREAM_TARGET_BYTES}
 *       bytes).
 * </ol>
 *
 * <p>Then the large objects (see {@link LargeObjectBenchmarks}) and, last, the multi-node
 * measurements on local clusters of node JVMs (see {@link ClusterBenchmarks}): a 1 GiB cross-node
 * transfer against loopback TCP, and task throughput on 3 nodes against 1; then the worker start,
 * launch to first task, without and with the AOT cache ({@link WorkerStartBenchmarks}).
 *
 * <p>Latencies are compared as ratios to a peer rather than as absolute numbers because the ratio
 * carries over between machines while microseconds do not. Every figure is the median of several
 * interleaved rounds (see {@link InterleavedRunner}); the details table adds min and max.
 *
 * <p>{@code --group datapath,observability} instead runs the groups of {@link PeerGroups}, whose
 * peers and Sluice drivers each run in JVMs of their own.
 *
 * <p>Usage: {@code java -jar sluice-bench/target/sluice-bench.jar [--quick] [--streams-only |
 * --large-only | --cluster-only | --actors-only | --group G[,G]] [--rounds N] ...} ({@code --help}
 * lists every option). Exits 0 after a complete run, whether or not the targets were met, 1 if a
 * measurement failed and 2 on bad arguments. The embedded cluster is always shut down, so no worker
 * JVM outlives the run.
 */
public final class BenchMain {
  /** Target of the async task throughput, in tasks per second. */
  public static final double ASYNC_TARGET_TASKS_PER_S = 20_000;

  /** Target of the sync task round trip, as a multiple of the RSocket round trip. */
  public static final double SYNC_TARGET_RATIO = 3.0;

  /** Target of stream items/s with backpressure off, as a multiple of RSocket's default demand. */
  public static final double STREAM_OFF_TARGET_RATIO = 1.0;

  /** Target of the per-item cost with backpressure 1, as a multiple of RSocket's request(1). */
  public static final double STREAM_ONE_TARGET_RATIO = 2.0;

  /** Target of the driver heap per open idle stream, in bytes. */
  public static final int IDLE_STREAM_TARGET_BYTES = 2048;

  /** Target of large-object bandwidth end to end, as a fraction of in-process memcpy. */
  public static final double LARGE_TARGET_MEMCPY_RATIO = 1.0 / 3;

  /**
   * Target of the stream a user writes (fresh 64 MiB array per item, plain {@code get()} loop), as
   * a fraction of memcpy in a JVM of its own.
   */
  public static final double FRESH_PLAIN_TARGET_MEMCPY_RATIO = 0.25;

  /** Target of a large-item stream's bandwidth, as a multiple of inline gRPC. */
  public static final double LARGE_TARGET_GRPC_RATIO = 10.0;

  private BenchMain() {}

  /** Parses the arguments, runs the benchmark and exits. */
  public static void main(String[] args) {
    PrintStream out =
        new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
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
    if (!o.groups().isEmpty()) {
      out.printf(
          "Sluice bench, %s run, groups %s: %d rounds per measurement, every peer and Sluice"
              + " driver in JVMs of their own%n",
          o.quick() ? "quick" : "full", String.join(", ", o.groups()), o.rounds());
      out.println(MachineInfo.describe());
      out.println(MachineInfo.jvmOptions());
      MachineInfo.loadAverage().ifPresent(l -> out.println("before: " + l));
      out.print(PeerGroups.run(o, out));
      MachineInfo.loadAverage().ifPresent(l -> out.println("after: " + l));
      out.printf("%ntotal %.1f s%n", (System.nanoTime() - start) / 1e9);
      return;
    }
    if (o.largeOnly()) {
      runLargeOnly(o, out, start);
      return;
    }
    if (o.workerStartOnly()) {
      out.printf(
          "Sluice bench, %s run, worker start only: %d fresh starts per variant%n",
          o.quick() ? "quick" : "full", o.workerStarts());
      out.println(MachineInfo.describe());
      out.print(WorkerStartBenchmarks.run(out, o.workerStarts()));
      out.printf("%ntotal %.1f s%n", (System.nanoTime() - start) / 1e9);
      return;
    }
    if (o.actorsOnly()) {
      runActorsOnly(o, out, start);
      return;
    }
    if (o.clusterOnly()) {
      out.printf(
          "Sluice bench, %s run, multi-node only: %d rounds per measurement%n",
          o.quick() ? "quick" : "full", Math.min(o.rounds(), ClusterBenchmarks.MAX_ROUNDS));
      out.println(MachineInfo.describe());
      out.print(clusters(o, out));
      out.printf("%ntotal %.1f s%n", (System.nanoTime() - start) / 1e9);
      return;
    }
    if (o.streamsOnly()) {
      out.printf(
          "Sluice bench, %s run, streams only: %d rounds per measurement%n",
          o.quick() ? "quick" : "full", o.rounds());
    } else {
      out.printf(
          "Sluice bench, %s run: %d rounds per measurement, %d async tasks, "
              + "%d sync tasks and %d transport round trips per round%n",
          o.quick() ? "quick" : "full", o.rounds(), o.tasks(), o.syncTasks(), o.rttOps());
    }
    out.printf(
        Locale.ROOT,
        "items per stream round: Sluice %,d (backpressure off), %,d (16), "
            + "%,d (1); RSocket %,d (default demand), %,d (request(1)); gRPC %,d; "
            + "%,d time-to-first-item samples and %,d idle streams per round%n",
        o.streamItems(),
        o.bp16Items(),
        o.bp1Items(),
        o.rsocketStreamItems(),
        o.rsocketRequest1Items(),
        o.grpcStreamItems(),
        o.firstItemSamples(),
        o.idleStreams());
    out.println(MachineInfo.describe());
    out.println(MachineInfo.jvmOptions());
    List<Measurement> all = new ArrayList<>();
    try {
      out.println(
          "starting the embedded cluster and running "
              + o.clusterWarmUpTasks()
              + " warm-up tasks ...");
      long t0 = System.nanoTime();
      TaskBenchmarks.startCluster(o.clusterWarmUpTasks());
      out.printf("cluster ready in %.1f s%n", (System.nanoTime() - t0) / 1e9);

      // Heap first, on a driver that has held little yet: later, every measured stream and task
      // leaves its objects in the owner's memory store, and a resize of those big maps during a
      // heap round would be charged to the streams of that round.
      out.println("driver heap measurements ...");
      List<Measurement> heap = new ArrayList<>();
      Measurement retained =
          add(
              heap,
              StreamBenchmarks.retainedPerConsumedItem(Math.max(10_000, o.streamItems() / 6)));
      StreamBenchmarks.IdleStreamMemory idle = StreamBenchmarks.idleStreamMemory(o.idleStreams());
      add(heap, idle);
      all.addAll(heap);
      Map<Measurement, Stats> heapStats = new InterleavedRunner(out).run(heap, o.rounds());

      out.println("timed measurements ...");
      Measurement async = null;
      Measurement sync = null;
      Measurement rsocket = null;
      Measurement grpcDefault = null;
      Measurement grpcBidi = null;
      if (!o.streamsOnly()) {
        async = add(all, TaskBenchmarks.asyncThroughput(o.tasks(), 2));
        sync =
            add(
                all,
                TaskBenchmarks.syncRoundTrip(
                    Math.max(o.syncTasks(), o.warmUpOps() / 4), o.syncTasks()));
        rsocket = add(all, RSocketBaseline.start(o.warmUpOps(), o.rttOps()));
      }
      Measurement grpcUnary = add(all, GrpcBaseline.unaryRuntimeConfig(o.warmUpOps(), o.rttOps()));
      if (!o.streamsOnly()) {
        grpcDefault = add(all, GrpcBaseline.unaryDefaultConfig(o.warmUpOps(), o.rttOps()));
        grpcBidi = add(all, GrpcBaseline.bidiStreamRuntimeConfig(o.warmUpOps(), o.rttOps()));
      }
      Measurement streamOff = add(all, StreamBenchmarks.throughput(-1, o.streamItems(), 2, false));
      Measurement stream16 = add(all, StreamBenchmarks.throughput(16, o.bp16Items(), 1, false));
      Measurement stream1 = add(all, StreamBenchmarks.throughput(1, o.bp1Items(), 1, true));
      Measurement rsocketStream =
          add(all, RSocketStreamBaseline.defaultDemand(o.rsocketStreamItems(), 2));
      Measurement rsocketOne =
          add(all, RSocketStreamBaseline.requestOnePerItem(o.rsocketRequest1Items(), 2));
      Measurement grpcServerStream =
          add(all, GrpcStreamBaseline.serverStreaming(o.grpcStreamItems(), 2));
      Measurement firstItem =
          add(
              all,
              StreamBenchmarks.timeToFirstItem(
                  Math.max(o.firstItemSamples(), 200), o.firstItemSamples()));
      List<Measurement> timed = new ArrayList<>(all);
      timed.removeAll(heap);
      Map<Measurement, Stats> stats =
          new LinkedHashMap<>(new InterleavedRunner(out).run(timed, o.rounds()));
      stats.putAll(heapStats);

      ResultTable tasks = null;
      if (!o.streamsOnly()) {
        double baseline = stats.get(rsocket).median();
        String base = "RSocket " + InterleavedRunner.format(baseline, rsocket.unit());
        double asyncRate = stats.get(async).median();
        double syncRatio = stats.get(sync).median() / baseline;
        tasks = new ResultTable("metric", "value", "baseline", "ratio", "target", "met");
        tasks.addRow(
            "Sluice async normal tasks",
            value(stats, async),
            "-",
            "-",
            String.format(Locale.ROOT, ">= %,.0f tasks/s", ASYNC_TARGET_TASKS_PER_S),
            met(asyncRate >= ASYNC_TARGET_TASKS_PER_S));
        tasks.addRow(
            "Sluice sync task round trip",
            value(stats, sync),
            base,
            ratio(syncRatio),
            String.format(Locale.ROOT, "<= %.1fx", SYNC_TARGET_RATIO),
            met(syncRatio <= SYNC_TARGET_RATIO));
        for (Measurement m : List.of(grpcUnary, grpcDefault, grpcBidi)) {
          tasks.addRow(
              m.name() + " RTT",
              value(stats, m),
              base,
              ratio(stats.get(m).median() / baseline),
              "-",
              "-");
        }
        tasks.addRow(
            "RSocket request-response RTT", value(stats, rsocket), "-", ratio(1.0), "-", "-");
      }

      double rsDefault = stats.get(rsocketStream).median();
      double rsOne = stats.get(rsocketOne).median();
      String rsDefaultBase =
          "RSocket default demand " + InterleavedRunner.format(rsDefault, rsocketStream.unit());
      String rsOneBase = "RSocket request(1) " + perItem(rsOne);
      double offRatio = stats.get(streamOff).median() / rsDefault;
      double oneRatio = stats.get(stream1).median() / rsOne;
      double idleBytes = stats.get(idle).median();
      ResultTable streams = new ResultTable("metric", "value", "peer", "ratio", "target", "met");
      streams.addRow(
          "Sluice stream, backpressure off",
          value(stats, streamOff),
          rsDefaultBase,
          ratio(offRatio),
          String.format(Locale.ROOT, ">= %.1fx", STREAM_OFF_TARGET_RATIO),
          met(offRatio >= STREAM_OFF_TARGET_RATIO));
      streams.addRow(
          "Sluice stream, backpressure 1",
          perItem(stats.get(stream1).median()),
          rsOneBase,
          ratio(oneRatio),
          String.format(Locale.ROOT, "<= %.1fx", STREAM_ONE_TARGET_RATIO),
          met(oneRatio <= STREAM_ONE_TARGET_RATIO));
      streams.addRow(
          "Sluice stream, backpressure 16",
          value(stats, stream16),
          rsDefaultBase,
          ratio(stats.get(stream16).median() / rsDefault),
          "-",
          "-");
      streams.addRow(
          "gRPC server streaming, 1 message per item",
          value(stats, grpcServerStream),
          rsDefaultBase,
          ratio(stats.get(grpcServerStream).median() / rsDefault),
          "-",
          "-");
      streams.addRow(
          "RSocket request-stream, default demand",
          value(stats, rsocketStream),
          "-",
          ratio(1.0),
          "-",
          "-");
      streams.addRow(
          "RSocket request-stream, request(1)", perItem(rsOne), "-", ratio(1.0), "-", "-");
      streams.addRow(
          "Sluice time to first item, warm worker",
          value(stats, firstItem),
          "gRPC unary RTT " + value(stats, grpcUnary),
          ratio(stats.get(firstItem).median() / stats.get(grpcUnary).median()),
          "-",
          "-");
      streams.addRow(
          "Sluice owner heap per idle stream (open)",
          bytes(idleBytes),
          "-",
          "-",
          String.format(Locale.ROOT, "<= %,d B", IDLE_STREAM_TARGET_BYTES),
          met(idleBytes <= IDLE_STREAM_TARGET_BYTES));
      streams.addRow(
          "  same streams after close(), still referenced",
          bytes(idle.closedHeld().median()),
          "-",
          "-",
          "-",
          "-");
      streams.addRow(
          "  same streams after close() and dropped (left behind)",
          bytes(idle.closedDropped().median()),
          "-",
          "-",
          "-",
          "-");
      streams.addRow(
          "Sluice owner heap kept per consumed item", value(stats, retained), "-", "-", "-", "-");

      ResultTable details = detailsTable(stats);
      addDetail(
          details,
          "  after close(), still referenced",
          idle.closedHeld(),
          Measurement.Unit.BYTES,
          idle.workPerRound());
      addDetail(
          details,
          "  after close() and dropped",
          idle.closedDropped(),
          Measurement.Unit.BYTES,
          idle.workPerRound());
      addDetail(
          details,
          "  idle streams opened and completed",
          idle.submitRate(),
          Measurement.Unit.OPS_PER_SECOND,
          idle.workPerRound());

      out.println();
      out.println(MachineInfo.describe());
      if (tasks != null) {
        out.println();
        out.println("Tasks");
        out.println();
        out.print(tasks.render());
        out.println();
        out.println("Values are medians of the rounds; ratios are to the RSocket median.");
      }
      out.println();
      out.println("Streams");
      out.println();
      out.print(streams.render());
      out.println();
      out.println(
          "Values are medians of the rounds; a ratio is the value divided by its peer's"
              + " (items/s: higher is better, µs: lower is better).");
      out.println(
          "Every Sluice item is an object with an id and an owner: reported to the"
              + " driver, stored there, and read with get().");
      out.printf(
          Locale.ROOT,
          "Idle stream: an ObjectRefGenerator the driver holds open (not"
              + " closed, not iterated) whose task yielded nothing and has ended; the driver heap"
              + " (after forced GCs) with %,d of them held, minus before, divided by %,d. It is the"
              + " owner-side stream state; a still-running task would add its pending-task state."
              + " The heap rows are measured before the timed ones, on a driver that holds little."
              + "%n",
          o.idleStreams(),
          o.idleStreams());
      if (o.quick()) {
        out.println("Quick run: too short to reach steady state; judge the targets on a full run.");
      }
      out.println();
      out.print(details.render());
      if (!o.streamsOnly()) {
        out.println();
        out.print(largeObjects(o, out, all));
        out.println();
        out.print(ActorBenchmarks.run(o, out, all));
        // Last: the multi-node clusters need their own drivers, and Sluice is one per process.
        Sluice.shutdown();
        out.println();
        out.print(clusters(o, out));
        out.println();
        out.print(WorkerStartBenchmarks.run(out, o.workerStarts()));
      }
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

  private static void runLargeOnly(BenchOptions o, PrintStream out, long start) throws Exception {
    out.printf(
        "Sluice bench, %s run, large objects only: %d rounds per measurement%n",
        o.quick() ? "quick" : "full", o.rounds());
    out.println(MachineInfo.describe());
    List<Measurement> all = new ArrayList<>();
    try {
      TaskBenchmarks.startCluster(o.clusterWarmUpTasks());
      out.print(largeObjects(o, out, all));
      out.printf("%ntotal %.1f s%n", (System.nanoTime() - start) / 1e9);
    } finally {
      for (Measurement m : all) {
        m.close();
      }
      Sluice.shutdown();
    }
  }

  private static void runActorsOnly(BenchOptions o, PrintStream out, long start) throws Exception {
    out.printf(
        "Sluice bench, %s run, actors only: %d rounds per measurement%n",
        o.quick() ? "quick" : "full", o.rounds());
    out.println(MachineInfo.describe());
    List<Measurement> all = new ArrayList<>();
    try {
      TaskBenchmarks.startCluster(o.clusterWarmUpTasks());
      out.print(ActorBenchmarks.run(o, out, all));
      out.printf("%ntotal %.1f s%n", (System.nanoTime() - start) / 1e9);
    } finally {
      for (Measurement m : all) {
        m.close();
      }
      Sluice.shutdown();
    }
  }

  /**
   * Runs the multi-node measurements (see {@link ClusterBenchmarks}) on local clusters it starts
   * and stops, and returns their tables; Sluice must not be initialized.
   */
  private static String clusters(BenchOptions o, PrintStream out) throws Exception {
    out.println("multi-node measurements ...");
    return ClusterBenchmarks.run(o, out);
  }

  /**
   * Runs the large-object measurements (see {@link LargeObjectBenchmarks}) and returns their
   * tables: targets first, then the details.
   */
  private static String largeObjects(BenchOptions o, PrintStream out, List<Measurement> all)
      throws Exception {
    out.println("large-object measurements ...");
    int items = o.quick() ? 4 : 16;
    int putBytes = o.quick() ? 256 << 20 : 1 << 30;
    List<Measurement> large = new ArrayList<>();
    Measurement memcpy =
        add(large, LargeObjectBenchmarks.memcpy(LargeObjectBenchmarks.ITEM_BYTES, items));
    Measurement stream = add(large, LargeObjectBenchmarks.stream(items, false, 2));
    Measurement zeroCopy = add(large, LargeObjectBenchmarks.stream(items, true, 2));
    Measurement zeroCopyAhead = add(large, LargeObjectBenchmarks.stream(items, true, 4));
    Measurement fresh = add(large, LargeObjectBenchmarks.freshPlainStream(items));
    Measurement memcpyOwn =
        add(large, LargeObjectBenchmarks.memcpyOwnJvm(LargeObjectBenchmarks.ITEM_BYTES, items));
    Measurement putGet = add(large, LargeObjectBenchmarks.putGet(putBytes));
    Measurement grpc =
        add(
            large,
            LargeObjectBenchmarks.grpcInline(LargeObjectBenchmarks.ITEM_BYTES, o.quick() ? 2 : 4));
    all.addAll(large);
    Map<Measurement, Stats> stats = new InterleavedRunner(out).run(large, o.rounds());
    double copy = stats.get(memcpy).median();
    double inline = stats.get(grpc).median();
    String copyPeer = "memcpy " + value(stats, memcpy);
    String grpcPeer = "gRPC inline " + value(stats, grpc);
    ResultTable t = new ResultTable("metric", "value", "peer", "ratio", "target", "met");
    String copyTarget = String.format(Locale.ROOT, ">= %.2fx", LARGE_TARGET_MEMCPY_RATIO);
    String grpcTarget = String.format(Locale.ROOT, ">= %.0fx", LARGE_TARGET_GRPC_RATIO);
    for (Measurement m : List.of(stream, zeroCopy, zeroCopyAhead, putGet)) {
      double r = stats.get(m).median() / copy;
      t.addRow(
          m.name(),
          value(stats, m),
          copyPeer,
          ratio(r),
          copyTarget,
          met(r >= LARGE_TARGET_MEMCPY_RATIO));
    }
    double ownCopy = stats.get(memcpyOwn).median();
    double freshRatio = stats.get(fresh).median() / ownCopy;
    t.addRow(
        fresh.name(),
        value(stats, fresh),
        "memcpy own JVM " + value(stats, memcpyOwn),
        ratio(freshRatio),
        String.format(Locale.ROOT, ">= %.2fx", FRESH_PLAIN_TARGET_MEMCPY_RATIO),
        met(freshRatio >= FRESH_PLAIN_TARGET_MEMCPY_RATIO));
    t.addRow(
        fresh.name(),
        value(stats, fresh),
        "prebuilt array, get() " + value(stats, stream),
        ratio(stats.get(fresh).median() / stats.get(stream).median()),
        "-",
        "-");
    for (Measurement m : List.of(stream, zeroCopy, zeroCopyAhead)) {
      double r = stats.get(m).median() / inline;
      t.addRow(
          m.name(),
          value(stats, m),
          grpcPeer,
          ratio(r),
          grpcTarget,
          met(r >= LARGE_TARGET_GRPC_RATIO));
    }
    ResultTable details = detailsTable(stats);
    return "Large objects (shared-memory store)\n\n"
        + t.render()
        + "\nGB/s of payload end to end (10^9 bytes/s); memcpy is System.arraycopy of 64 MiB"
        + " arrays in this JVM. The stream's producer yields one prebuilt array; get() copies"
        + " each item out of shared memory into a new byte[]; getBuffer() views it in place and"
        + " reads every byte; each item's ref is released once read. Backpressure 4 lets the"
        + " producer write the next item while the last one is sealed, reported and taken. The"
        + " fresh-array stream is what a user writes: its producer allocates and fills a new"
        + " 64 MiB array per item, its consumer get()s each item and never calls release(); its"
        + " peer is memcpy in a JVM of its own.\n\n"
        + details.render();
  }

  /** The per-measurement table under a section: median, min and max of every measurement. */
  static ResultTable detailsTable(Map<Measurement, Stats> stats) {
    ResultTable details =
        new ResultTable("measurement", "median", "min", "max", "rounds", "work per round");
    stats.forEach((m, s) -> addDetail(details, m.name(), s, m.unit(), m.workPerRound()));
    return details;
  }

  private static void addDetail(
      ResultTable details, String name, Stats s, Measurement.Unit unit, String work) {
    details.addRow(
        name,
        InterleavedRunner.format(s.median(), unit),
        InterleavedRunner.format(s.min(), unit),
        InterleavedRunner.format(s.max(), unit),
        Integer.toString(s.rounds()),
        work);
  }

  /** "24.1 µs/item (41,500 items/s)". */
  private static String perItem(double micros) {
    return String.format(Locale.ROOT, "%.1f µs/item (%,.0f items/s)", micros, 1e6 / micros);
  }

  private static String bytes(double b) {
    return InterleavedRunner.format(b, Measurement.Unit.BYTES);
  }

  static Measurement add(List<Measurement> all, Measurement m) {
    all.add(m);
    return m;
  }

  static String value(Map<Measurement, Stats> stats, Measurement m) {
    return InterleavedRunner.format(stats.get(m).median(), m.unit());
  }

  static String ratio(double r) {
    return String.format(Locale.ROOT, "%.2fx", r);
  }

  static String met(boolean met) {
    return met ? "yes" : "NO";
  }
}
