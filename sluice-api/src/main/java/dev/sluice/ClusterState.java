package dev.sluice;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What the cluster is doing, as its control service knows it: Ray's state API ({@code
 * ray.util.state}) for Java, and what {@code sluice list}, {@code sluice summary} and {@code sluice
 * timeline} print. Get it with {@link Sluice#state()}.
 *
 * <pre>{@code
 * for (TaskState t : Sluice.state().tasks(StateQuery.all().filter("state", "RUNNING"))) { ... }
 * TaskSummary s = Sluice.state().summarizeTasks();
 * }</pre>
 *
 * <p>Each call asks the control service once and returns a snapshot. Nodes and actors are current;
 * workers and objects are as of each node's last report (about a second); tasks and streams are
 * built from events their owners and executors send in batches (about a second behind, nothing when
 * {@link SluiceConfig.Builder#observability(boolean) observability} is off). Rows come in a stable
 * order: nodes, workers and objects by id, tasks by submission time, streams and actors by
 * creation.
 *
 * <p>Thread-safe. Calls block the caller while they ask, and throw {@link SluiceException} when the
 * control service cannot be reached.
 */
public interface ClusterState {
  /** The cluster's nodes matching {@code query}. */
  List<NodeState> nodes(StateQuery query);

  /** The cluster's worker processes matching {@code query}. */
  List<WorkerState> workers(StateQuery query);

  /** Task attempts matching {@code query}, oldest first (one row per attempt). */
  List<TaskState> tasks(StateQuery query);

  /** Objects in the nodes' shared-memory stores matching {@code query}. */
  List<ObjectState> objects(StateQuery query);

  /** Streaming generators matching {@code query}, with their counters and rates. */
  List<StreamState> streams(StateQuery query);

  /** Actors matching {@code query}. */
  List<ActorState> actors(StateQuery query);

  /** Task attempts counted by function and state. */
  TaskSummary summarizeTasks();

  /**
   * Writes the tasks' timeline to {@code file} in Chrome's trace event format (Ray's {@code
   * ray.timeline}): one slice per task attempt that started, on a track per node (process) and
   * worker (thread), named by its function. Open it in Perfetto ({@code ui.perfetto.dev}) or {@code
   * chrome://tracing}.
   *
   * @throws IOException if the file cannot be written
   */
  void timeline(Path file) throws IOException;

  /** Every node (up to {@link StateQuery#DEFAULT_LIMIT}). */
  default List<NodeState> nodes() {
    return nodes(StateQuery.all());
  }

  /** Every worker (up to {@link StateQuery#DEFAULT_LIMIT}). */
  default List<WorkerState> workers() {
    return workers(StateQuery.all());
  }

  /** Task attempts (up to {@link StateQuery#DEFAULT_LIMIT}). */
  default List<TaskState> tasks() {
    return tasks(StateQuery.all());
  }

  /** Objects (up to {@link StateQuery#DEFAULT_LIMIT}). */
  default List<ObjectState> objects() {
    return objects(StateQuery.all());
  }

  /** Streams (up to {@link StateQuery#DEFAULT_LIMIT}). */
  default List<StreamState> streams() {
    return streams(StateQuery.all());
  }

  /** Actors (up to {@link StateQuery#DEFAULT_LIMIT}). */
  default List<ActorState> actors() {
    return actors(StateQuery.all());
  }
}
