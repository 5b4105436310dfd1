package dev.sluice.runtime.state;

import dev.sluice.ActorState;
import dev.sluice.ClusterState;
import dev.sluice.NodeState;
import dev.sluice.ObjectState;
import dev.sluice.SluiceException;
import dev.sluice.StateQuery;
import dev.sluice.StreamState;
import dev.sluice.TaskState;
import dev.sluice.TaskStatus;
import dev.sluice.TaskSummary;
import dev.sluice.WorkerState;
import dev.sluice.runtime.rpc.proto.ControlServiceGrpc;
import dev.sluice.runtime.rpc.proto.StateRequest;
import dev.sluice.runtime.rpc.proto.SummarizeTasksReply;
import dev.sluice.runtime.rpc.proto.SummarizeTasksRequest;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A {@link ClusterState} that asks the control service at the other end of a channel: what {@code
 * Sluice.state()} returns and what the CLI's {@code list}, {@code summary} and {@code timeline}
 * use. Each call is one RPC with a deadline; a failure becomes a {@link SluiceException} naming the
 * control service.
 *
 * <p>Thread-safe (stateless besides the channel, which it does not own).
 */
public final class StateClient implements ClusterState {
  private final Channel channel;
  private final String target;
  private final Duration deadline;

  /** A client of the control service {@code target} reached through {@code channel}. */
  public StateClient(Channel channel, String target, Duration deadline) {
    this.channel = channel;
    this.target = target;
    this.deadline = deadline;
  }

  private ControlServiceGrpc.ControlServiceBlockingStub stub() {
    return ControlServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static StateRequest request(StateQuery q) {
    return StateRequest.newBuilder().putAllFilters(q.filters()).setLimit(q.limit()).build();
  }

  @Override
  public List<NodeState> nodes(StateQuery query) {
    return call(
            "nodes",
            () -> stub().listNodes(request(query)).getNodesList().stream().map(StateProtos::node))
        .toList();
  }

  @Override
  public List<WorkerState> workers(StateQuery query) {
    return call(
            "workers",
            () ->
                stub().listWorkers(request(query)).getWorkersList().stream()
                    .map(StateProtos::worker))
        .toList();
  }

  @Override
  public List<TaskState> tasks(StateQuery query) {
    return call(
            "tasks",
            () -> stub().listTasks(request(query)).getTasksList().stream().map(StateProtos::task))
        .toList();
  }

  @Override
  public List<ObjectState> objects(StateQuery query) {
    return call(
            "objects",
            () ->
                stub().listObjects(request(query)).getObjectsList().stream()
                    .map(StateProtos::object))
        .toList();
  }

  @Override
  public List<StreamState> streams(StateQuery query) {
    return call(
            "streams",
            () ->
                stub().listStreams(request(query)).getStreamsList().stream()
                    .map(StateProtos::stream))
        .toList();
  }

  @Override
  public List<ActorState> actors(StateQuery query) {
    return call(
            "actors",
            () ->
                stub().listActors(request(query)).getActorsList().stream().map(StateProtos::actor))
        .toList();
  }

  @Override
  public TaskSummary summarizeTasks() {
    SummarizeTasksReply r =
        call(
            "the task summary",
            () -> stub().summarizeTasks(SummarizeTasksRequest.getDefaultInstance()));
    Map<String, Map<TaskStatus, Long>> byFunction = new HashMap<>();
    r.getByFunctionMap()
        .forEach(
            (f, counts) -> {
              Map<TaskStatus, Long> c = new EnumMap<>(TaskStatus.class);
              counts.getCountsMap().forEach((s, n) -> c.put(TaskStatus.valueOf(s), n));
              byFunction.put(f, c);
            });
    return new TaskSummary(byFunction, r.getTotalTasks(), r.getDroppedEvents());
  }

  @Override
  public void timeline(Path file) throws IOException {
    TimelineWriter.write(tasks(StateQuery.all().limit(Integer.MAX_VALUE)), file);
  }

  private <T> T call(String what, Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw new SluiceException(
          "could not get "
              + what
              + " from the control service at "
              + target
              + ": "
              + e.getStatus().getCode()
              + (e.getStatus().getDescription() == null
                  ? ""
                  : " (" + e.getStatus().getDescription() + ")"),
          e);
    }
  }
}
