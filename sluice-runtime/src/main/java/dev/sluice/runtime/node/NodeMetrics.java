package dev.sluice.runtime.node;

import dev.sluice.WorkerId;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.metrics.SluiceMetrics.StoreKind;
import dev.sluice.runtime.metrics.SluiceMetrics.WorkerState;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import io.micrometer.core.instrument.Counter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A node manager's part of its process's {@link SluiceMetrics} (README "Metrics"): the store's
 * bytes and the worker JVMs by state, read when scraped (the workers under the node lock), worker
 * starts, and the metrics its workers and drivers push ({@code ReportMetrics}), which it adds to
 * the node's.
 *
 * <p>Threads: the gauges are read on the scraping thread; the rest is called from transport and
 * process-exit threads; all thread-safe.
 */
final class NodeMetrics implements AutoCloseable {
  private final SluiceMetrics metrics;
  private final Counter workerStarts;
  private final List<SluiceMetrics.Registration> registrations = new ArrayList<>();

  NodeMetrics(SluiceMetrics metrics, SharedMemoryStore store, Object lock, WorkerPool pool) {
    this.metrics = metrics;
    this.workerStarts = metrics.workerStarts();
    registrations.add(metrics.addStoreBytes(StoreKind.CAPACITY, store::capacity));
    registrations.add(metrics.addStoreBytes(StoreKind.USED, () -> store.usage().used()));
    registrations.add(metrics.addStoreBytes(StoreKind.SPILLED, () -> store.usage().spilledBytes()));
    for (WorkerState s : WorkerState.values()) {
      registrations.add(metrics.addWorkers(s, () -> count(lock, pool, s)));
    }
  }

  /** True if the node's processes should record and push metrics. */
  boolean enabled() {
    return metrics.enabled();
  }

  /** A worker JVM was launched. */
  void workerStarted() {
    workerStarts.increment();
  }

  /** Process {@code sender} pushed its metrics. */
  void report(WorkerId sender, Map<String, Double> counterDeltas, Map<String, Double> gauges) {
    metrics.mergeReport(sender.hex(), counterDeltas, gauges);
  }

  /** Worker {@code id} exited: its pushed gauges no longer count. */
  void workerExited(WorkerId id) {
    metrics.forgetSender(id.hex());
  }

  @SuppressWarnings("GuardedBy") // the pool's ...Locked methods are called holding the node lock
  private static double count(Object lock, WorkerPool pool, WorkerState state) {
    int n = 0;
    synchronized (lock) {
      for (WorkerProcess w : pool.allLocked()) {
        if (stateOf(w) == state) {
          n++;
        }
      }
    }
    return n;
  }

  /** A worker's state as exported; null for a dead one. Holding the node lock. */
  private static WorkerState stateOf(WorkerProcess w) {
    return switch (w.state) {
      case STARTING -> WorkerState.STARTING;
      case DEAD -> null;
      case IDLE -> w.forActor ? WorkerState.ACTOR : WorkerState.IDLE;
      case LEASED -> w.forActor || !w.actorId.isEmpty() ? WorkerState.ACTOR : WorkerState.BUSY;
    };
  }

  /** Removes the node's gauges from the process's metrics (the node stops). */
  @Override
  public void close() {
    registrations.forEach(SluiceMetrics.Registration::close);
  }
}
