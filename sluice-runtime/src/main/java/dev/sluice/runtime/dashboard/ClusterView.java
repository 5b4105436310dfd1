package dev.sluice.runtime.dashboard;

import java.util.List;
import java.util.Map;

/**
 * What the dashboard reads from the cluster each second: its nodes, workers, tasks and streams as
 * the head knows them. An implementation asks the control service; a call may block briefly and may
 * throw {@link RuntimeException} when the cluster does not answer (the dashboard then shows the
 * last snapshot and the error). Implementations are called from one thread at a time.
 */
public interface ClusterView extends AutoCloseable {

  /** Every node the head knows, alive or dead. */
  List<NodeRow> nodes();

  /** Every worker the nodes report (empty when the head keeps no worker table). */
  List<WorkerRow> workers();

  /** The tasks the head has events of, newest first, at most {@code limit}. */
  List<TaskRow> tasks(int limit);

  /** Every stream the head has reports of, with cumulative counts. */
  List<StreamRow> streams();

  @Override
  default void close() {}

  /**
   * One node.
   *
   * @param nodeId hex id
   * @param address the node manager's {@code host:port}
   * @param head whether it runs next to the control service
   * @param alive false once the head has declared it dead
   * @param resourcesTotal what it offers
   * @param resourcesAvailable what is free, as of its last heartbeat
   * @param workers worker JVMs it runs
   * @param storeCapacity its object store's capacity in bytes
   * @param storeUsed bytes in use
   * @param storeObjects objects held
   * @param spilled bytes spilled to disk
   * @param deathReason why it is dead, or empty
   */
  record NodeRow(
      String nodeId,
      String address,
      boolean head,
      boolean alive,
      Map<String, Double> resourcesTotal,
      Map<String, Double> resourcesAvailable,
      int workers,
      long storeCapacity,
      long storeUsed,
      long storeObjects,
      long spilled,
      String deathReason) {}

  /**
   * One worker JVM.
   *
   * @param workerId hex id
   * @param nodeId the node that runs it
   * @param pid its process id
   * @param state e.g. IDLE, LEASED, ACTOR, DEAD
   * @param detail what it runs now (a task or actor), or empty
   */
  record WorkerRow(String workerId, String nodeId, long pid, String state, String detail) {}

  /**
   * One task attempt.
   *
   * @param taskId hex id
   * @param function the function's name
   * @param state e.g. PENDING, RUNNING, FINISHED, FAILED
   * @param nodeId where it runs or ran, or empty
   * @param workerId which worker, or empty
   * @param attempt 0 for the first attempt
   * @param startMillis epoch millis it started, or 0
   * @param endMillis epoch millis it ended, or 0
   */
  record TaskRow(
      String taskId,
      String function,
      String state,
      String nodeId,
      String workerId,
      int attempt,
      long startMillis,
      long endMillis) {}

  /**
   * One stream (a streaming generator task's item sequence), counts since it started.
   *
   * @param streamId hex id of the generator ObjectRef
   * @param taskId the generator task
   * @param function the generator function's name
   * @param owner the owner (the caller's worker or driver)
   * @param produced items the generator reported
   * @param consumed items the caller took
   * @param held items reported and not yet taken
   * @param window the backpressure window (items), or -1 when off
   * @param stalledMillis time the generator waited on backpressure
   * @param finished whether the stream has ended
   */
  record StreamRow(
      String streamId,
      String taskId,
      String function,
      String owner,
      long produced,
      long consumed,
      long held,
      long window,
      long stalledMillis,
      boolean finished) {}
}
