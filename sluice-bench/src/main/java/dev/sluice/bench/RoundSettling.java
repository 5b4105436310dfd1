package dev.sluice.bench;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Brings a measuring JVM to the same state before each timed round ({@code PeerMain measure
 * --settle-before-round}): it collects its garbage ({@link System#gc}, as JMH does between
 * iterations with {@code -gc true}), then waits until it and the processes it started are quiet:
 * until they use less than {@link #QUIET_CORES} of a core over a {@link #WINDOW}, or at most {@link
 * #MAX}. Nothing of it is timed.
 *
 * <p>Why (measured on this kind of machine, see the bench README): a Sluice driver that runs
 * batches of 100,000 async tasks promotes many of each batch's in-flight tasks to its old
 * generation, where they die and stay until a mixed collection: its heap after a young collection
 * grew from 21 MB to 900 MB within 40 s, with young pauses of 40-230 ms. Whether a part started on
 * a clean heap or a cluttered one was chance. Over 72 parts of 200,000 tasks (one driver JVM at a
 * time), the driver's CPU per task ranged from 11.6 to 38.8 µs (median 17.3); over 40 parts that
 * each followed a full collection, from 7.8 to 18.5 µs (median 11.3). That spread is larger than
 * the 5% the observability group must resolve. A part still pays for the garbage it makes itself.
 *
 * <p>Threads: called on the measuring thread; not shared.
 */
final class RoundSettling {
  /** How long each reading of the CPU used covers. */
  static final Duration WINDOW = Duration.ofMillis(100);

  /**
   * Below this share of one core over a window, the processes count as quiet (an idle embedded
   * cluster of three workers uses 0.04-0.05).
   */
  static final double QUIET_CORES = 0.2;

  /** The longest wait for quiet; then the round runs anyway and the report says so. */
  static final Duration MAX = Duration.ofSeconds(5);

  /** What one settling did: how long it took and whether the processes became quiet. */
  record Report(Duration took, boolean quiet) {}

  /** Waits; {@link Thread#sleep} in the bench. */
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private final Runnable collect;
  private final LongSupplier cpuNanos;
  private final LongSupplier nanoClock;
  private final Sleeper sleeper;

  /**
   * Collects with {@code collect}, reads the CPU used so far with {@code cpuNanos} and the time
   * with {@code nanoClock}, and waits with {@code sleeper}.
   */
  RoundSettling(Runnable collect, LongSupplier cpuNanos, LongSupplier nanoClock, Sleeper sleeper) {
    this.collect = collect;
    this.cpuNanos = cpuNanos;
    this.nanoClock = nanoClock;
    this.sleeper = sleeper;
  }

  /** This JVM and its descendants ({@link ProcessTreeCpu}), by the system clock. */
  RoundSettling() {
    this(System::gc, ProcessTreeCpu::nanos, System::nanoTime, d -> Thread.sleep(d));
  }

  /** Collects, then waits for quiet (at most {@link #MAX}). */
  Report settle() throws InterruptedException {
    long start = nanoClock.getAsLong();
    collect.run();
    long window = WINDOW.toNanos();
    while (true) {
      long cpu0 = cpuNanos.getAsLong();
      long t0 = nanoClock.getAsLong();
      sleeper.sleep(WINDOW);
      long elapsed = Math.max(window, nanoClock.getAsLong() - t0);
      double cores = (double) (cpuNanos.getAsLong() - cpu0) / elapsed;
      long took = nanoClock.getAsLong() - start;
      if (cores < QUIET_CORES) {
        return new Report(Duration.ofNanos(took), true);
      }
      if (took >= MAX.toNanos()) {
        return new Report(Duration.ofNanos(took), false);
      }
    }
  }
}
