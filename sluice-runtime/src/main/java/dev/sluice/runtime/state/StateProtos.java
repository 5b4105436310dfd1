package dev.sluice.runtime.state;

import com.google.protobuf.ByteString;
import dev.sluice.ActorId;
import dev.sluice.ActorState;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.NodeState;
import dev.sluice.ObjectId;
import dev.sluice.ObjectState;
import dev.sluice.StreamState;
import dev.sluice.TaskId;
import dev.sluice.TaskState;
import dev.sluice.TaskStatus;
import dev.sluice.WorkerId;
import dev.sluice.WorkerState;
import dev.sluice.runtime.rpc.proto.ActorRow;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.NodeRow;
import dev.sluice.runtime.rpc.proto.ObjectRow;
import dev.sluice.runtime.rpc.proto.StreamCounters;
import dev.sluice.runtime.rpc.proto.StreamRow;
import dev.sluice.runtime.rpc.proto.TaskEventState;
import dev.sluice.runtime.rpc.proto.TaskRow;
import dev.sluice.runtime.rpc.proto.WorkerInfo;
import dev.sluice.runtime.rpc.proto.WorkerRow;
import java.time.Instant;
import java.util.function.Function;

/**
 * Translates the state API's wire rows ({@code NodeRow}, {@code TaskRow}, ...) into the public
 * records ({@link NodeState}, {@link TaskState}, ...), and the control service's own messages into
 * wire rows. Absent ids (empty bytes) become null.
 *
 * <p>Stateless and thread-safe.
 */
public final class StateProtos {
  private StateProtos() {}

  /** A node entry of the control service as a wire row. */
  public static NodeRow nodeRow(NodeInfo n) {
    return NodeRow.newBuilder()
        .setNodeId(n.getNodeId())
        .setState(n.getAlive() ? "ALIVE" : "DEAD")
        .setHead(n.getIsHead())
        .setAddress(n.getNodeManager().getHost() + ":" + n.getNodeManager().getPort())
        .setPid(n.getPid())
        .putAllResourcesTotal(n.getResourcesTotalMap())
        .putAllResourcesAvailable(n.getResourcesAvailableMap())
        .setWorkers(n.getLoad().getWorkers())
        .setObjectStoreCapacityBytes(n.getObjectStoreCapacity())
        .setObjectStoreUsedBytes(n.getLoad().getStoreUsedBytes())
        .setObjectStoreObjects(n.getLoad().getStoreObjects())
        .setSpilledBytes(n.getLoad().getSpilledBytes())
        .setDeathReason(n.getDeathReason())
        .build();
  }

  /** A worker as its node reports it, as a wire row. */
  public static WorkerRow workerRow(ByteString nodeId, String host, WorkerInfo w) {
    return WorkerRow.newBuilder()
        .setWorkerId(w.getWorkerId())
        .setNodeId(nodeId)
        .setState(w.getState())
        .setPid(w.getPid())
        .setAddress(host + ":" + w.getPort())
        .setJobId(w.getJobId())
        .build();
  }

  /** See {@link NodeState}. */
  public static NodeState node(NodeRow r) {
    return new NodeState(
        id(r.getNodeId(), NodeId::fromBytes),
        r.getState(),
        r.getHead(),
        r.getAddress(),
        r.getPid(),
        r.getResourcesTotalMap(),
        r.getResourcesAvailableMap(),
        r.getWorkers(),
        r.getObjectStoreCapacityBytes(),
        r.getObjectStoreUsedBytes(),
        r.getObjectStoreObjects(),
        r.getSpilledBytes(),
        emptyToNull(r.getDeathReason()));
  }

  /** See {@link WorkerState}. */
  public static WorkerState worker(WorkerRow r) {
    return new WorkerState(
        id(r.getWorkerId(), WorkerId::fromBytes),
        id(r.getNodeId(), NodeId::fromBytes),
        r.getState(),
        r.getPid(),
        r.getAddress(),
        id(r.getJobId(), JobId::fromBytes));
  }

  /** See {@link TaskState}. */
  public static TaskState task(TaskRow r) {
    return new TaskState(
        id(r.getTaskId(), TaskId::fromBytes),
        r.getAttemptNumber(),
        r.getInfo().getName(),
        r.getInfo().getFunctionName(),
        r.getInfo().getType().isEmpty() ? "NORMAL_TASK" : r.getInfo().getType(),
        status(r.getState()),
        r.getInfo().getGenerator(),
        id(r.getInfo().getJobId(), JobId::fromBytes),
        id(r.getNodeId(), NodeId::fromBytes),
        id(r.getWorkerId(), WorkerId::fromBytes),
        id(r.getInfo().getActorId(), ActorId::fromBytes),
        instant(r.getSubmittedMicros()),
        instant(r.getStartedMicros()),
        instant(r.getEndedMicros()),
        emptyToNull(r.getErrorType()),
        emptyToNull(r.getErrorMessage()));
  }

  /** See {@link ObjectState}. */
  public static ObjectState object(ObjectRow r) {
    ObjectId id = id(r.getObjectId(), ObjectId::fromBytes);
    return new ObjectState(
        id,
        id(r.getNodeId(), NodeId::fromBytes),
        r.getSizeBytes(),
        r.getState(),
        r.getPinned(),
        id == null ? null : id.taskId());
  }

  /** See {@link StreamState}. */
  public static StreamState stream(StreamRow r) {
    StreamCounters c = r.getCounters();
    return new StreamState(
        id(c.getStreamId(), ObjectId::fromBytes),
        id(c.getTaskId(), TaskId::fromBytes),
        c.getFunctionName(),
        c.getState(),
        id(c.getOwnerWorkerId(), WorkerId::fromBytes),
        id(c.getOwnerNodeId(), NodeId::fromBytes),
        c.getProduced(),
        c.getConsumed(),
        c.getHeld(),
        c.getWindow(),
        c.getStalledNanos() / 1e9,
        r.getProducedPerSecond(),
        r.getConsumedPerSecond());
  }

  /** See {@link ActorState}. */
  public static ActorState actor(ActorRow r) {
    return new ActorState(
        id(r.getActorId(), ActorId::fromBytes),
        r.getClassName(),
        emptyToNull(r.getName()),
        r.getState(),
        id(r.getJobId(), JobId::fromBytes),
        id(r.getNodeId(), NodeId::fromBytes),
        id(r.getWorkerId(), WorkerId::fromBytes),
        r.getLifetime(),
        r.getNumRestarts(),
        r.getMaxRestarts(),
        emptyToNull(r.getDeathCause()));
  }

  /** The public status of a wire state. */
  public static TaskStatus status(TaskEventState s) {
    return switch (s) {
      case TASK_PENDING_NODE_ASSIGNMENT -> TaskStatus.PENDING_NODE_ASSIGNMENT;
      case TASK_SUBMITTED_TO_WORKER -> TaskStatus.SUBMITTED_TO_WORKER;
      case TASK_RUNNING -> TaskStatus.RUNNING;
      case TASK_FINISHED -> TaskStatus.FINISHED;
      case TASK_FAILED -> TaskStatus.FAILED;
      default -> TaskStatus.PENDING_ARGS_AVAIL;
    };
  }

  private static <T> T id(ByteString bytes, Function<byte[], T> parse) {
    return bytes.isEmpty() ? null : parse.apply(bytes.toByteArray());
  }

  private static Instant instant(long micros) {
    return micros == 0 ? null : Instant.EPOCH.plusNanos(micros * 1_000);
  }

  private static String emptyToNull(String s) {
    return s.isEmpty() ? null : s;
  }
}
