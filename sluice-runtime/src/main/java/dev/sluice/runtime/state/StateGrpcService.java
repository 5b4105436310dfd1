package dev.sluice.runtime.state;

import com.google.protobuf.ByteString;
import dev.sluice.StateQuery;
import dev.sluice.TaskState;
import dev.sluice.runtime.rpc.proto.ActorRow;
import dev.sluice.runtime.rpc.proto.ListActorsReply;
import dev.sluice.runtime.rpc.proto.ListNodesReply;
import dev.sluice.runtime.rpc.proto.ListObjectsReply;
import dev.sluice.runtime.rpc.proto.ListStreamsReply;
import dev.sluice.runtime.rpc.proto.ListTasksReply;
import dev.sluice.runtime.rpc.proto.ListWorkersReply;
import dev.sluice.runtime.rpc.proto.NodeInfo;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.NodeRow;
import dev.sluice.runtime.rpc.proto.NodeStatsReply;
import dev.sluice.runtime.rpc.proto.NodeStatsRequest;
import dev.sluice.runtime.rpc.proto.ObjectRow;
import dev.sluice.runtime.rpc.proto.ReportTaskEventsReply;
import dev.sluice.runtime.rpc.proto.StateRequest;
import dev.sluice.runtime.rpc.proto.StreamCounters;
import dev.sluice.runtime.rpc.proto.SummarizeTasksReply;
import dev.sluice.runtime.rpc.proto.SummarizeTasksRequest;
import dev.sluice.runtime.rpc.proto.TaskEventBatch;
import dev.sluice.runtime.rpc.proto.TaskRow;
import dev.sluice.runtime.rpc.proto.TaskStateCounts;
import dev.sluice.runtime.rpc.proto.WorkerInfo;
import dev.sluice.runtime.rpc.proto.WorkerRow;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state API's side of the control service (DESIGN "Observing"): takes the task events and
 * stream counters processes report ({@code ReportTaskEvents}) into its {@link TaskStore} and {@link
 * StreamTable}, and answers the listings: nodes and actors from what the control service knows,
 * workers and objects by asking every alive node ({@code GetNodeStats}), tasks and streams from its
 * own tables. Filters and limits are applied here ({@link StateFields#select}), on the public
 * records the rows become.
 *
 * <p>Threads: reports are merged on the transport thread (the tables' monitors are short); listings
 * run on a virtual thread each, which asks the nodes in parallel on virtual threads of its own.
 */
public final class StateGrpcService {
  private static final Logger log = LoggerFactory.getLogger(StateGrpcService.class);

  /** Task attempts the control service keeps at most. */
  public static final int DEFAULT_MAX_TASKS = 100_000;

  private static final int MAX_ENDED_STREAMS = 1_000;
  private static final long NODE_DEADLINE_SECONDS = 5;

  private final Supplier<List<NodeInfo>> nodes;
  private final Supplier<List<ActorRow>> actors;
  private final Function<String, Channel> channels;
  private final TaskStore tasks;
  private final StreamTable streams = new StreamTable(MAX_ENDED_STREAMS);
  private volatile boolean keepEvents = true;

  /**
   * The state service of a control service knowing {@code nodes} and {@code actors}, reaching nodes
   * through {@code channels}, keeping at most {@code maxTasks} task attempts.
   */
  public StateGrpcService(
      Supplier<List<NodeInfo>> nodes,
      Supplier<List<ActorRow>> actors,
      Function<String, Channel> channels,
      int maxTasks) {
    this.nodes = nodes;
    this.actors = actors;
    this.channels = channels;
    this.tasks = new TaskStore(maxTasks);
  }

  /** Whether task events are kept: off, reporters are told to stop recording them. */
  public void keepTaskEvents(boolean on) {
    this.keepEvents = on;
  }

  /** Node {@code nodeId} died: the running streams its processes owned end as OWNER_DIED. */
  public void nodeDied(ByteString nodeId) {
    streams.ownerDied(c -> c.getOwnerNodeId().equals(nodeId));
  }

  /**
   * Job {@code jobId} ended (its driver exited or died, and its workers with it): its running
   * streams end as OWNER_DIED.
   */
  public void jobFinished(ByteString jobId) {
    streams.ownerDied(c -> c.getTaskId().startsWith(jobId));
  }

  public void reportTaskEvents(TaskEventBatch req, StreamObserver<ReportTaskEventsReply> out) {
    if (keepEvents) {
      tasks.add(req);
      for (StreamCounters c : req.getStreamsList()) {
        streams.update(c);
      }
    }
    out.onNext(ReportTaskEventsReply.newBuilder().setDisabled(!keepEvents).build());
    out.onCompleted();
  }

  public void listNodes(StateRequest req, StreamObserver<ListNodesReply> out) {
    answer(
        out,
        () -> {
          List<NodeRow> rows =
              new ArrayList<>(nodes.get().stream().map(StateProtos::nodeRow).toList());
          rows.sort(Comparator.comparing(r -> hex(r.getNodeId())));
          return ListNodesReply.newBuilder()
              .addAllNodes(select(rows, StateProtos::node, req))
              .build();
        });
  }

  public void listWorkers(StateRequest req, StreamObserver<ListWorkersReply> out) {
    answer(
        out,
        () -> {
          List<WorkerRow> rows = new ArrayList<>();
          for (NodeStats s : nodeStats(false)) {
            for (WorkerInfo w : s.reply().getWorkersList()) {
              rows.add(StateProtos.workerRow(s.reply().getNodeId(), s.host(), w));
            }
          }
          rows.sort(Comparator.comparing(r -> hex(r.getWorkerId())));
          return ListWorkersReply.newBuilder()
              .addAllWorkers(select(rows, StateProtos::worker, req))
              .build();
        });
  }

  public void listObjects(StateRequest req, StreamObserver<ListObjectsReply> out) {
    answer(
        out,
        () -> {
          List<ObjectRow> rows = new ArrayList<>();
          for (NodeStats s : nodeStats(true)) {
            rows.addAll(s.reply().getObjectsList());
          }
          rows.sort(
              Comparator.comparing((ObjectRow r) -> hex(r.getObjectId()))
                  .thenComparing(r -> hex(r.getNodeId())));
          return ListObjectsReply.newBuilder()
              .addAllObjects(select(rows, StateProtos::object, req))
              .build();
        });
  }

  public void listTasks(StateRequest req, StreamObserver<ListTasksReply> out) {
    answer(
        out,
        () ->
            ListTasksReply.newBuilder()
                .addAllTasks(select(tasks.rows(), StateProtos::task, req))
                .build());
  }

  public void listStreams(StateRequest req, StreamObserver<ListStreamsReply> out) {
    answer(
        out,
        () ->
            ListStreamsReply.newBuilder()
                .addAllStreams(select(streams.rows(), StateProtos::stream, req))
                .build());
  }

  public void listActors(StateRequest req, StreamObserver<ListActorsReply> out) {
    answer(
        out,
        () ->
            ListActorsReply.newBuilder()
                .addAllActors(select(actors.get(), StateProtos::actor, req))
                .build());
  }

  public void summarizeTasks(SummarizeTasksRequest req, StreamObserver<SummarizeTasksReply> out) {
    answer(
        out,
        () -> {
          Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
          List<TaskRow> rows = tasks.rows();
          for (TaskRow r : rows) {
            TaskState t = StateProtos.task(r);
            counts
                .computeIfAbsent(t.functionName(), f -> new LinkedHashMap<>())
                .merge(t.state().name(), 1L, Long::sum);
          }
          SummarizeTasksReply.Builder b =
              SummarizeTasksReply.newBuilder()
                  .setTotalTasks(rows.size())
                  .setDroppedEvents(tasks.droppedEvents());
          counts.forEach(
              (f, c) -> b.putByFunction(f, TaskStateCounts.newBuilder().putAllCounts(c).build()));
          return b.build();
        });
  }

  // ------------------------------------------------------------------ helpers

  /** One node's answer and the host its workers listen on. */
  private record NodeStats(NodeStatsReply reply, String host) {}

  /** Every alive node's stats, asked in parallel; a node that does not answer is left out. */
  private List<NodeStats> nodeStats(boolean includeObjects) {
    List<NodeInfo> alive = nodes.get().stream().filter(NodeInfo::getAlive).toList();
    NodeStatsRequest request =
        NodeStatsRequest.newBuilder().setIncludeObjects(includeObjects).build();
    List<NodeStats> out = new ArrayList<>();
    try (ExecutorService asks = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<NodeStatsReply>> replies = new ArrayList<>();
      for (NodeInfo n : alive) {
        String target = n.getNodeManager().getHost() + ":" + n.getNodeManager().getPort();
        replies.add(
            asks.submit(
                () ->
                    NodeManagerServiceGrpc.newBlockingStub(channels.apply(target))
                        .withDeadlineAfter(NODE_DEADLINE_SECONDS, TimeUnit.SECONDS)
                        .getNodeStats(request)));
      }
      for (int i = 0; i < alive.size(); i++) {
        try {
          out.add(new NodeStats(replies.get(i).get(), alive.get(i).getNodeManager().getHost()));
        } catch (Exception e) {
          log.debug(
              "node {} did not answer for the state API: {}", hex(alive.get(i).getNodeId()), e);
        }
      }
    }
    return out;
  }

  private static <P, R extends Record> List<P> select(
      List<P> rows, Function<P, R> toRecord, StateRequest req) {
    StateQuery query =
        new StateQuery(
            req.getFiltersMap(), req.getLimit() < 1 ? Integer.MAX_VALUE : req.getLimit());
    if (query.filters().isEmpty()) {
      return rows.subList(0, Math.min(rows.size(), query.limit()));
    }
    List<P> out = new ArrayList<>();
    for (P row : rows) {
      if (out.size() >= query.limit()) {
        break;
      }
      if (!StateFields.select(List.of(toRecord.apply(row)), query).isEmpty()) {
        out.add(row);
      }
    }
    return out;
  }

  /** Answers on a virtual thread: listings may wait for nodes. */
  private static <T> void answer(StreamObserver<T> out, Supplier<T> reply) {
    Thread.ofVirtual()
        .name("sluice-state-query")
        .start(
            () -> {
              T value;
              try {
                value = reply.get();
              } catch (RuntimeException e) {
                log.warn("state query failed", e);
                out.onError(
                    Status.INTERNAL
                        .withDescription(e.toString())
                        .withCause(e)
                        .asRuntimeException());
                return;
              }
              out.onNext(value);
              out.onCompleted();
            });
  }

  private static String hex(ByteString b) {
    return HexFormat.of().formatHex(b.toByteArray());
  }
}
