package dev.sluice.runtime.core;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks this JVM for a concurrent garbage collection after every {@link #budgetBytes} of large
 * arrays that passed through the node's store (DESIGN "Object store", large items): a producer that
 * allocates a fresh 64 MiB array per item, and a consumer whose {@code get()} copies each item into
 * a fresh one, leave their dead arrays to G1, which frees humongous arrays only in a collection. A
 * process that allocates little else seldom fills eden, and while G1 waits for the young collection
 * before mixed ones it does not collect for humongous allocations at all: it expands the heap, so
 * that every array lands on pages never touched (16 k page faults per 64 MiB item). A concurrent
 * start pause every budget frees those arrays (and finds the refs of items dropped since the last
 * one, whose store memory the reference counter then frees), so that the next arrays reuse warm
 * regions.
 *
 * <p>Only where {@code System.gc()} is a concurrent start rather than a full collection: G1 with
 * {@code -XX:+ExplicitGCInvokesConcurrent}, which workers get unless their user names another
 * collector ({@code node.JvmCollector}). Elsewhere (a user's driver with default options) it does
 * nothing: a full collection of a large heap would cost far more than the page faults it saves.
 *
 * <p>Threads: {@link #passed} is called from any thread and never blocks; a collection runs on a
 * daemon thread of its own (it blocks until the concurrent cycle ends), at most one at a time.
 */
final class LargeArrayCollector {
  private static final Logger log = LoggerFactory.getLogger(LargeArrayCollector.class);

  /** Arrays smaller than this are left to the collector's own pace (not humongous in G1). */
  static final long LARGE_BYTES = 1L << 20;

  /** Bytes of large arrays between two collections, at most. */
  static final long MAX_BUDGET_BYTES = 256L << 20;

  private final long budgetBytes;
  private final Runnable collect;
  private final AtomicLong sinceLast = new AtomicLong();
  private final AtomicBoolean running = new AtomicBoolean();

  /**
   * A collector that runs {@code collect} after every {@code budgetBytes} of large arrays; with
   * {@code collect} null it does nothing.
   */
  LargeArrayCollector(long budgetBytes, Runnable collect) {
    this.budgetBytes = budgetBytes;
    this.collect = collect;
  }

  /**
   * The collector for this JVM: {@code System.gc()} after every {@link #MAX_BUDGET_BYTES} (or a
   * quarter of the maximum heap if less) when that is a concurrent start, else a no-op.
   */
  static LargeArrayCollector forThisJvm() {
    long budget = Math.min(MAX_BUDGET_BYTES, Runtime.getRuntime().maxMemory() / 4);
    return new LargeArrayCollector(budget, explicitGcIsConcurrent() ? System::gc : null);
  }

  /** True if {@code System.gc()} starts a concurrent G1 cycle in this JVM. */
  static boolean explicitGcIsConcurrent() {
    try {
      boolean g1 =
          ManagementFactory.getGarbageCollectorMXBeans().stream()
              .map(GarbageCollectorMXBean::getName)
              .anyMatch(n -> n.startsWith("G1"));
      HotSpotDiagnosticMXBean hotspot =
          ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      return g1
          && hotspot != null
          && flag(hotspot, "ExplicitGCInvokesConcurrent")
          && !flag(hotspot, "DisableExplicitGC");
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  private static boolean flag(HotSpotDiagnosticMXBean hotspot, String name) {
    return Boolean.parseBoolean(hotspot.getVMOption(name).getValue());
  }

  /** Whether this collector ever collects. */
  boolean enabled() {
    return collect != null;
  }

  /**
   * An array of {@code bytes} was copied into or out of the store (its source, or its copy, is the
   * caller's to drop): counts it if large, and starts a collection once the budget is spent and
   * none is running.
   */
  void passed(long bytes) {
    if (collect == null || bytes < LARGE_BYTES) {
      return;
    }
    if (sinceLast.addAndGet(bytes) < budgetBytes || !running.compareAndSet(false, true)) {
      return;
    }
    sinceLast.set(0);
    Thread.ofPlatform().daemon().name("sluice-large-array-gc").start(this::collectOnce);
  }

  private void collectOnce() {
    try {
      collect.run();
    } catch (RuntimeException e) {
      log.debug("collection after large arrays failed: {}", e.toString());
    } finally {
      running.set(false);
    }
  }
}
