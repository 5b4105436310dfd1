package dev.sluice.bench;

import dev.sluice.Sluice;
import dev.sluice.SluiceConfig;
import io.rsocket.transport.netty.server.CloseableChannel;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Entry point of the child JVMs the bench runs its peers and Sluice drivers in ({@link PeerProcess}
 * starts them with the bench's own {@code java}, class path and JVM options), so that each runs as
 * its users run it: in a JVM of its own, not beside the bench's other processes.
 *
 * <ul>
 *   <li>{@code PeerMain serve-rsocket}: an RSocket server ({@link RSocketPeerServer}); announces
 *       its port, then serves until its standard input says {@code quit} or ends.
 *   <li>{@code PeerMain measure [--observability on|off] [--task-events-per-second N]
 *       [--warmup-tasks N] [--worker-jvm-option OPTION]... [--settle-before-round] [--part-ms N
 *       --warmup-window-ms N --warmup-max-ms N --warmup-tolerance X] SPEC...}: hosts one
 *       measurement per {@link PeerProtocol.Spec} and runs their warm-ups and rounds when told (see
 *       {@link PeerProtocol}). With {@code --part-ms} ({@link RoundPolicy#args()}) a round runs
 *       batches for at least that long and a warm-up runs until steady ({@link SteadyRounds});
 *       without, a round is one batch and a warm-up the measurement's fixed minimum. When a spec is
 *       a Sluice one ({@code sluice-*}) it first starts an embedded cluster ({@code Sluice.init})
 *       with the given observability and worker JVM options, and warms it up.
 * </ul>
 *
 * <p>Threads: commands run one at a time on the main thread. Standard output carries only the
 * protocol: {@code System.out} is pointed at standard error before anything else runs.
 */
public final class PeerMain {
  /**
   * The option of {@code measure} that settles the JVM before each round ({@link RoundSettling}).
   */
  static final String SETTLE_BEFORE_ROUND = "--settle-before-round";

  private PeerMain() {}

  /** Runs the child; exits 0 after {@code quit} or the end of standard input, 1 on failure. */
  public static void main(String[] args) {
    PrintStream protocol =
        new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    BufferedReader commands =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    int code = 0;
    try {
      if (args.length == 0) {
        throw new IllegalArgumentException("usage: PeerMain serve-rsocket | measure SPEC...");
      }
      switch (args[0]) {
        case "serve-rsocket" -> serveRSocket(protocol, commands);
        case "measure" -> measure(args, protocol, commands);
        default -> throw new IllegalArgumentException("unknown mode '" + args[0] + "'");
      }
    } catch (Throwable t) {
      protocol.println(PeerProtocol.error(describe(t)));
      t.printStackTrace();
      code = 1;
    }
    System.exit(code);
  }

  private static void serveRSocket(PrintStream protocol, BufferedReader commands)
      throws IOException {
    CloseableChannel server = RSocketPeerServer.start();
    try {
      protocol.println(PeerProtocol.ready(server.address().getPort()));
      String line;
      while ((line = commands.readLine()) != null && !line.strip().equals("quit")) {
        protocol.println(PeerProtocol.error("a server takes no command but quit: " + line));
      }
    } finally {
      server.dispose();
      server.onClose().block();
    }
  }

  private static void measure(String[] args, PrintStream protocol, BufferedReader commands)
      throws Exception {
    boolean observability = true;
    int warmUpTasks = 500;
    long partMillis = 0;
    long windowMillis = 500;
    long warmUpMaxMillis = 10_000;
    double tolerance = 0.1;
    RoundSettling settling = null;
    int taskEventsPerSecond = -1;
    List<String> workerJvmOptions = new ArrayList<>();
    List<PeerProtocol.Spec> specs = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      switch (args[i]) {
        case "--observability" -> observability = !args[++i].equals("off");
        case "--worker-jvm-option" -> workerJvmOptions.add(args[++i]);
        case "--warmup-tasks" -> warmUpTasks = Integer.parseInt(args[++i]);
        case "--part-ms" -> partMillis = Long.parseLong(args[++i]);
        case "--warmup-window-ms" -> windowMillis = Long.parseLong(args[++i]);
        case "--warmup-max-ms" -> warmUpMaxMillis = Long.parseLong(args[++i]);
        case "--warmup-tolerance" -> tolerance = Double.parseDouble(args[++i]);
        case SETTLE_BEFORE_ROUND -> settling = new RoundSettling();
        case "--task-events-per-second" -> taskEventsPerSecond = Integer.parseInt(args[++i]);
        default -> specs.add(PeerProtocol.Spec.parse(args[i]));
      }
    }
    // Without --part-ms a round is one batch and a warm-up only the measurement's fixed minimum.
    RoundPolicy policy =
        partMillis <= 0
            ? null
            : new RoundPolicy(
                Duration.ofMillis(partMillis),
                Duration.ofMillis(windowMillis),
                Duration.ofMillis(warmUpMaxMillis),
                tolerance);
    SteadyRounds steady = new SteadyRounds();
    boolean sluice = specs.stream().anyMatch(s -> s.kind().startsWith("sluice-"));
    List<Measurement> measurements = new ArrayList<>();
    try {
      if (sluice) {
        SluiceConfig.Builder config =
            SluiceConfig.builder().observability(observability).workerJvmOptions(workerJvmOptions);
        if (taskEventsPerSecond >= 0) {
          config.taskEventsPerSecond(taskEventsPerSecond);
        }
        TaskBenchmarks.startCluster(warmUpTasks, config.build());
      }
      for (PeerProtocol.Spec spec : specs) {
        measurements.add(create(spec));
      }
      protocol.println(PeerProtocol.ready(measurements));
      String line;
      while ((line = commands.readLine()) != null) {
        String[] words = line.strip().split("\\s+");
        if (words[0].equals("quit")) {
          break;
        }
        try {
          Measurement m = measurements.get(Integer.parseInt(words[1]));
          switch (words[0]) {
            case "warmup" -> {
              if (policy == null) {
                m.warmUp();
                protocol.println(PeerProtocol.done());
              } else {
                protocol.println(PeerProtocol.done(steady.warmUp(m, policy)));
              }
            }
            case "round" -> {
              settle(settling, m);
              protocol.println(
                  policy == null
                      ? PeerProtocol.result(m.runRound())
                      : PeerProtocol.result(timedPart(steady, m, policy)));
            }
            default -> throw new IllegalArgumentException("unknown command '" + line + "'");
          }
        } catch (Exception | AssertionError e) {
          e.printStackTrace();
          protocol.println(PeerProtocol.error(describe(e)));
        }
      }
    } finally {
      for (Measurement m : measurements) {
        try {
          m.close();
        } catch (RuntimeException e) {
          System.err.println("closing " + m.name() + " failed: " + e);
        }
      }
      if (sluice) {
        Sluice.shutdown();
      }
    }
  }

  /** The measurement a spec names. */
  static Measurement create(PeerProtocol.Spec s) throws IOException {
    return switch (s.kind()) {
      case "sluice-async" -> TaskBenchmarks.asyncThroughput(s.intParam("tasks"), 2);
      case "sluice-sync" -> TaskBenchmarks.syncRoundTrip(s.intParam("warmup"), s.intParam("ops"));
      case "sluice-stream" ->
          StreamBenchmarks.throughput(
              s.intParam("bp"),
              s.intParam("items"),
              s.intParam("warmupRounds", 2),
              s.boolParam("perItem"));
      case "sluice-ttfi" ->
          StreamBenchmarks.timeToFirstItem(s.intParam("warmup"), s.intParam("samples"));
      case "sluice-fresh-large" -> LargeFreshItems.stream(s.intParam("items"));
      case "rsocket-rr" ->
          RSocketBaseline.connect(address(s), s.intParam("warmup"), s.intParam("ops"));
      case "rsocket-stream-default" ->
          RSocketStreamBaseline.defaultDemand(address(s), s.intParam("items"), 2);
      case "rsocket-stream-one" ->
          RSocketStreamBaseline.requestOnePerItem(
              address(s), s.intParam("items"), s.intParam("warmupRounds", 2));
      case "grpc-unary" -> GrpcBaseline.unaryRuntimeConfig(s.intParam("warmup"), s.intParam("ops"));
      case "memcpy" -> LargeObjectBenchmarks.memcpy(s.intParam("size"), s.intParam("copies"));
      default -> throw new IllegalArgumentException("unknown measurement '" + s.kind() + "'");
    };
  }

  private static InetSocketAddress address(PeerProtocol.Spec s) {
    return new InetSocketAddress("127.0.0.1", s.intParam("port"));
  }

  /**
   * Settles before a round of {@code m} if asked ({@link RoundSettling}); says when it could not.
   */
  private static void settle(RoundSettling settling, Measurement m) throws InterruptedException {
    if (settling == null) {
      return;
    }
    RoundSettling.Report r = settling.settle();
    if (!r.quiet()) {
      System.err.println(
          "before a round of "
              + m.name()
              + ": not quiet after "
              + r.took().toMillis()
              + " ms; the round runs anyway");
    }
  }

  /** One timed part of {@code m}, with the CPU time this JVM and its workers used meanwhile. */
  private static RoundPart timedPart(SteadyRounds steady, Measurement m, RoundPolicy policy)
      throws Exception {
    long cpu0 = ProcessTreeCpu.nanos();
    RoundPart part = steady.runFor(m, policy.part().toNanos());
    return part.withCpu((ProcessTreeCpu.nanos() - cpu0) / 1e9);
  }

  private static String describe(Throwable t) {
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
