package dev.sluice.runtime.dashboard;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.sluice.runtime.dashboard.ClusterView.NodeRow;
import dev.sluice.runtime.dashboard.ClusterView.StreamRow;
import dev.sluice.runtime.dashboard.ClusterView.TaskRow;
import dev.sluice.runtime.dashboard.ClusterView.WorkerRow;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the {@link ClusterView} every {@link #PERIOD} and publishes the result as one JSON snapshot
 * ({@link SnapshotJson}) with a sequence number; the dashboard's event streams wait for the next
 * one. It also keeps the object store's {@link StoreHistory} and the streams' {@link StreamRates},
 * so it samples whether or not a page is open.
 *
 * <p>Threads: one platform daemon thread samples (it alone touches the view, the history and the
 * rates); any number of request threads read the latest snapshot or wait for a newer one under
 * {@code lock}.
 */
final class SnapshotSampler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SnapshotSampler.class);

  /** How often the cluster is read and a snapshot sent. */
  static final Duration PERIOD = Duration.ofSeconds(1);

  /** Task rows per snapshot, newest first. */
  static final int TASK_LIMIT = 1000;

  /** A published snapshot. */
  record Snapshot(long seq, String json) {}

  private final ClusterView view;
  private final ScheduledExecutorService thread;
  private final StoreHistory history = new StoreHistory();
  private final StreamRates rates = new StreamRates();

  // Last rows read, kept when a read fails so that pages go on showing them with the error.
  private List<NodeRow> nodes = List.of();
  private List<WorkerRow> workers = List.of();
  private List<TaskRow> tasks = List.of();
  private List<StreamRow> streams = List.of();

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition published = lock.newCondition();

  @GuardedBy("lock")
  private Snapshot latest = new Snapshot(0, null);

  @GuardedBy("lock")
  private boolean closed;

  SnapshotSampler(ClusterView view) {
    this.view = view;
    this.thread =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("sluice-dashboard-sampler").factory());
    thread.scheduleWithFixedDelay(this::sample, 0, PERIOD.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The latest snapshot, waiting up to {@code timeout} for the first one. */
  Snapshot latest(Duration timeout) throws InterruptedException {
    return after(0, timeout);
  }

  /**
   * The first snapshot newer than {@code seq}, waiting up to {@code timeout}; returns the one with
   * {@code seq} again on timeout, and null once the sampler is closed.
   */
  Snapshot after(long seq, Duration timeout) throws InterruptedException {
    long left = timeout.toNanos();
    lock.lock();
    try {
      while (!closed && latest.seq() <= seq && left > 0) {
        left = published.awaitNanos(left);
      }
      return closed ? null : latest;
    } finally {
      lock.unlock();
    }
  }

  private void sample() {
    String error = null;
    try {
      nodes = view.nodes();
      workers = view.workers();
      tasks = view.tasks(TASK_LIMIT);
      streams = view.streams();
    } catch (RuntimeException e) {
      error = "the cluster did not answer: " + e.getMessage();
      log.debug("dashboard sample failed", e);
    }
    try {
      long now = System.currentTimeMillis();
      if (error == null) {
        history.add(storeSample(now));
      }
      String json =
          SnapshotJson.write(
              new SnapshotJson.Parts(
                  now,
                  error,
                  nodes,
                  workers,
                  tasks,
                  streams,
                  rates.update(streams, System.nanoTime()),
                  history.samples()));
      lock.lock();
      try {
        latest = new Snapshot(latest.seq() + 1, json);
        published.signalAll();
      } finally {
        lock.unlock();
      }
    } catch (RuntimeException e) {
      log.warn("dashboard snapshot failed: {}", e.toString(), e);
    }
  }

  private StoreHistory.Sample storeSample(long now) {
    long used = 0;
    long capacity = 0;
    long spilled = 0;
    long objects = 0;
    for (NodeRow n : nodes) {
      if (n.alive()) {
        used += n.storeUsed();
        capacity += n.storeCapacity();
        spilled += n.spilled();
        objects += n.storeObjects();
      }
    }
    return new StoreHistory.Sample(now, used, capacity, spilled, objects);
  }

  @Override
  public void close() {
    thread.shutdownNow();
    lock.lock();
    try {
      closed = true;
      published.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
