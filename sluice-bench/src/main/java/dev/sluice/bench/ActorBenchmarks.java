package dev.sluice.bench;

import dev.sluice.ActorHandle;
import dev.sluice.ActorOptions;
import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.Sluice;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Actor measurements, each against a number Ray publishes and an in-run Sluice peer:
 *
 * <ul>
 *   <li>{@link #streamBetweenActors}: Ray's core streaming throughput benchmark (Ray PR #42260): an
 *       {@link Endpoint} actor yields 1,000 tokens per request, each a small {@link Token} (text,
 *       99 floats, 99 ints, a timestamp); a {@link Caller} actor runs 10 requests at once and gets
 *       every token. Ray reports 14,199 tokens/s.
 *   <li>{@link #syncActorCall}: sequential sync calls on one actor (Ray's "1:1 actor calls sync",
 *       1,950 calls/s, ~513 µs per call), against Sluice's own sync task round trip in the same
 *       run.
 * </ul>
 *
 * <p>Threading: measurements run on the harness's thread; the caller actor reads its 10 streams on
 * virtual threads of its own.
 */
public final class ActorBenchmarks {
  /** Ray's published streaming throughput between actors, tokens/s. */
  public static final double RAY_STREAM_TOKENS_PER_S = 14_199;

  /** The target: at least this many times Ray's. */
  public static final double STREAM_TARGET_RATIO = 5.0;

  /** Ray's published 1:1 sync actor calls, calls/s. */
  public static final double RAY_SYNC_CALLS_PER_S = 1_950;

  /** The target: an actor call no slower than this times Sluice's sync task round trip. */
  public static final double SYNC_CALL_TARGET_RATIO = 1.0;

  static final int TOKENS_PER_REQUEST = 1_000;
  static final int CONCURRENT_REQUESTS = 10;
  private static final Duration TIMEOUT = Duration.ofMinutes(5);

  private ActorBenchmarks() {}

  /** One streamed token: Ray's benchmark record. */
  public record Token(String text, float[] floats, int[] ints, long timestamp) {}

  /** The streaming endpoint: yields {@code n} tokens per request. */
  public static final class Endpoint {
    private final float[] floats = new float[99];
    private final int[] ints = new int[99];

    public Endpoint() {
      for (int i = 0; i < 99; i++) {
        floats[i] = i * 0.5f;
        ints[i] = i;
      }
    }

    /** Yields {@code n} tokens. */
    public Iterator<Token> stream(int n) {
      return new Iterator<>() {
        private int k;

        @Override
        public boolean hasNext() {
          return k < n;
        }

        @Override
        public Token next() {
          if (k >= n) {
            throw new NoSuchElementException();
          }
          k++;
          return new Token("token " + k, floats, ints, System.nanoTime());
        }
      };
    }

    public int noop(int i) {
      return i;
    }
  }

  /** The caller: runs {@code requests} streams at once against an endpoint and gets every token. */
  public static final class Caller {
    public Caller() {}

    /** Runs {@code batches} x {@code requests} concurrent streams; returns the tokens received. */
    public long consume(ActorHandle<Endpoint> endpoint, int batches, int requests, int tokens)
        throws Exception {
      long received = 0;
      try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int b = 0; b < batches; b++) {
          List<Future<Long>> streams = new ArrayList<>();
          for (int r = 0; r < requests; r++) {
            streams.add(readers.submit(() -> readAll(endpoint, tokens)));
          }
          for (Future<Long> f : streams) {
            received += f.get();
          }
        }
      }
      return received;
    }

    private static long readAll(ActorHandle<Endpoint> endpoint, int tokens) {
      long n = 0;
      try (ObjectRefGenerator<Token> gen = endpoint.generator(Endpoint::stream, tokens).remote()) {
        for (ObjectRef<Token> ref : gen) {
          Token t = ref.get(TIMEOUT);
          if (t.ints().length != 99 || t.floats().length != 99) {
            throw new IllegalStateException("bad token " + t.text());
          }
          ref.release();
          n++;
        }
      }
      return n;
    }
  }

  /** Tokens per second streamed from the endpoint actor to the caller actor. */
  public static Measurement streamBetweenActors(int batchesPerRound) {
    return new Measurement() {
      private ActorHandle<Endpoint> endpoint;
      private ActorHandle<Caller> caller;

      @Override
      public String name() {
        return "sluice actor -> actor token stream";
      }

      @Override
      public Unit unit() {
        return Unit.ITEMS_PER_SECOND;
      }

      @Override
      public void warmUp() {
        endpoint =
            Sluice.actor(Endpoint::new)
                .options(ActorOptions.builder().maxConcurrency(CONCURRENT_REQUESTS).build())
                .remote();
        caller = Sluice.actor(Caller::new).remote();
        for (int i = 0; i < 2; i++) {
          runRound();
        }
      }

      @Override
      public double runRound() {
        long t0 = System.nanoTime();
        long tokens =
            caller
                .task(
                    Caller::consume,
                    endpoint,
                    batchesPerRound,
                    CONCURRENT_REQUESTS,
                    TOKENS_PER_REQUEST)
                .remote()
                .get(TIMEOUT);
        long elapsed = System.nanoTime() - t0;
        long expected = (long) batchesPerRound * CONCURRENT_REQUESTS * TOKENS_PER_REQUEST;
        if (tokens != expected) {
          throw new IllegalStateException("caller got " + tokens + " tokens, expected " + expected);
        }
        return tokens * 1e9 / elapsed;
      }

      @Override
      public String workPerRound() {
        return String.format(
            Locale.ROOT,
            "%d x %d requests of %,d tokens",
            batchesPerRound,
            CONCURRENT_REQUESTS,
            TOKENS_PER_REQUEST);
      }

      @Override
      public void close() {
        if (Sluice.isInitialized()) {
          if (caller != null) {
            Sluice.kill(caller);
          }
          if (endpoint != null) {
            Sluice.kill(endpoint);
          }
        }
      }
    };
  }

  /** Sequential sync calls of a no-op method on one actor, µs per call. */
  public static Measurement syncActorCall(int warmUpCalls, int callsPerRound) {
    return new RoundTripMeasurement("sluice sync actor call", warmUpCalls, callsPerRound) {
      private ActorHandle<Endpoint> actor;

      @Override
      public void warmUp() throws Exception {
        actor = Sluice.actor(Endpoint::new).remote();
        actor.task(Endpoint::noop, 0).remote().get(TIMEOUT);
        super.warmUp();
      }

      @Override
      void roundTrip(int i) {
        Integer v = actor.task(Endpoint::noop, i).remote().get();
        if (v != i) {
          throw new IllegalStateException("actor returned " + v + ", expected " + i);
        }
      }

      @Override
      public void close() {
        if (actor != null && Sluice.isInitialized()) {
          Sluice.kill(actor);
        }
      }
    };
  }

  /**
   * Runs the actor measurements interleaved (with a sync task round trip as the in-run peer) on the
   * running cluster and returns their tables.
   */
  static String run(BenchOptions o, PrintStream out, List<Measurement> all) throws Exception {
    out.println("actor measurements ...");
    List<Measurement> ms = new ArrayList<>();
    Measurement stream = BenchMain.add(ms, streamBetweenActors(o.quick() ? 1 : 3));
    Measurement call =
        BenchMain.add(ms, syncActorCall(Math.max(o.syncTasks(), o.warmUpOps() / 4), o.syncTasks()));
    Measurement task =
        BenchMain.add(
            ms,
            TaskBenchmarks.syncRoundTrip(
                Math.max(o.syncTasks(), o.warmUpOps() / 4), o.syncTasks()));
    all.addAll(ms);
    Map<Measurement, Stats> stats = new InterleavedRunner(out).run(ms, o.rounds());

    double tokens = stats.get(stream).median();
    double callMicros = stats.get(call).median();
    double taskMicros = stats.get(task).median();
    double rayCallMicros = 1e6 / RAY_SYNC_CALLS_PER_S;
    ResultTable t = new ResultTable("metric", "value", "peer", "ratio", "target", "met");
    t.addRow(
        "Actor -> actor token stream (10 x 1,000 tokens)",
        String.format(Locale.ROOT, "%,.0f tokens/s", tokens),
        String.format(Locale.ROOT, "Ray %,.0f tokens/s", RAY_STREAM_TOKENS_PER_S),
        BenchMain.ratio(tokens / RAY_STREAM_TOKENS_PER_S),
        String.format(Locale.ROOT, ">= %.0fx", STREAM_TARGET_RATIO),
        BenchMain.met(tokens / RAY_STREAM_TOKENS_PER_S >= STREAM_TARGET_RATIO));
    t.addRow(
        "Sync actor call, one actor",
        String.format(Locale.ROOT, "%.1f µs (%,.0f calls/s)", callMicros, 1e6 / callMicros),
        "Sluice sync task " + BenchMain.value(stats, task),
        BenchMain.ratio(callMicros / taskMicros),
        String.format(Locale.ROOT, "<= %.1fx", SYNC_CALL_TARGET_RATIO),
        BenchMain.met(callMicros <= taskMicros * SYNC_CALL_TARGET_RATIO));
    t.addRow(
        "  same, against Ray's 1:1 actor calls sync",
        String.format(Locale.ROOT, "%.1f µs", callMicros),
        String.format(
            Locale.ROOT, "Ray %.0f µs (%,.0f calls/s)", rayCallMicros, RAY_SYNC_CALLS_PER_S),
        BenchMain.ratio(callMicros / rayCallMicros),
        "-",
        "-");
    return "Actors\n\n"
        + t.render()
        + "\nValues are medians of the rounds. The stream: an endpoint actor (maxConcurrency 10)"
        + " yields records of a text, 99 floats, 99 ints and a timestamp; a caller actor reads 10"
        + " streams at once on virtual threads and get()s every token; timed in the driver around"
        + " the caller's call. Ray's numbers are the ones it publishes for the same programs (not"
        + " run here).\n\n"
        + BenchMain.detailsTable(stats).render();
  }
}
