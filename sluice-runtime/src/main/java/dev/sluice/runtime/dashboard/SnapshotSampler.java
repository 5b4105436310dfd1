package dev.sluice.runtime.dashboard;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.sluice.ClusterState;
import dev.sluice.NodeState;
import dev.sluice.StateQuery;
import dev.sluice.StreamState;
import dev.sluice.TaskState;
import dev.sluice.TaskSummary;
import dev.sluice.WorkerState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the {@link ClusterState} every {@link #PERIOD} and publishes the result as one JSON
 * snapshot ({@link SnapshotJson}) with a sequence number; the dashboard's event streams wait for
 * the next one. It also keeps the object store's {@link StoreHistory} and which streams are stalled
 * ({@link StallTracker}), so it samples whether or not a page is open. A listing that fails keeps
 * its last rows, and the snapshot says what failed.
 *
 * <p>Threads: one platform daemon thread samples (it alone touches the state client, the history
 * and the tracker); any number of request threads read the latest snapshot or wait for a newer one
 * under {@code lock}.
 */
final class SnapshotSampler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SnapshotSampler.class);

  /** How often the cluster is read and a snapshot sent. */
  static final Duration PERIOD = Duration.ofSeconds(1);

  /** Task rows per snapshot. */
  static final int TASK_LIMIT = 1000;

  /** Worker, node and stream rows per snapshot. */
  static final int ROW_LIMIT = 1000;

  /** A published snapshot. */
  record Snapshot(long seq, String json) {}

  private final ClusterState state;
  private final ScheduledExecutorService thread;
  private final StoreHistory history = new StoreHistory();
  private final StallTracker stalls = new StallTracker();

  // Last rows read, kept when a read fails so that pages go on showing them with the error.
  private List<NodeState> nodes = List.of();
  private List<WorkerState> workers = List.of();
  private List<TaskState> tasks = List.of();
  private TaskSummary summary;
  private List<StreamState> streams = List.of();

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition published = lock.newCondition();

  @GuardedBy("lock")
  private Snapshot latest = new Snapshot(0, null);

  @GuardedBy("lock")
  private boolean closed;

  SnapshotSampler(ClusterState state) {
    this.state = state;
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
    List<String> errors = new ArrayList<>();
    StateQuery rows = StateQuery.all().limit(ROW_LIMIT);
    boolean nodesRead = false;
    try {
      nodes = state.nodes(rows);
      nodesRead = true;
    } catch (RuntimeException e) {
      errors.add("nodes: " + e.getMessage());
    }
    workers = read("workers", () -> state.workers(rows), workers, errors);
    tasks = read("tasks", () -> state.tasks(StateQuery.all().limit(TASK_LIMIT)), tasks, errors);
    summary = read("task summary", state::summarizeTasks, summary, errors);
    streams = read("streams", () -> state.streams(rows), streams, errors);
    try {
      long now = System.currentTimeMillis();
      if (nodesRead) {
        history.add(storeSample(now));
      }
      String json =
          SnapshotJson.write(
              new SnapshotJson.Parts(
                  now,
                  errors.isEmpty()
                      ? null
                      : "the cluster did not answer: " + String.join("; ", errors),
                  nodes,
                  workers,
                  tasks,
                  summary,
                  streams,
                  stalls.update(streams),
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

  private static <T> T read(String what, Supplier<T> call, T last, List<String> errors) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      log.debug("dashboard could not read {}", what, e);
      errors.add(what + ": " + e.getMessage());
      return last;
    }
  }

  private StoreHistory.Sample storeSample(long now) {
    long used = 0;
    long capacity = 0;
    long spilled = 0;
    long objects = 0;
    for (NodeState n : nodes) {
      if (SnapshotJson.alive(n)) {
        used += n.objectStoreUsedBytes();
        capacity += n.objectStoreCapacityBytes();
        spilled += n.spilledBytes();
        objects += n.objectStoreObjects();
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
