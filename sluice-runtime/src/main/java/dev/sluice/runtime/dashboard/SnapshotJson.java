package dev.sluice.runtime.dashboard;

import dev.sluice.NodeState;
import dev.sluice.ObjectId;
import dev.sluice.StreamState;
import dev.sluice.TaskState;
import dev.sluice.TaskStatus;
import dev.sluice.TaskSummary;
import dev.sluice.WorkerState;
import dev.sluice.runtime.state.StateJson;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The JSON document the dashboard's pages render (one per second over server-sent events, and at
 * {@code /api/snapshot}): {@code time}, {@code error}, {@code cluster} (totals), {@code nodes},
 * {@code workers}, {@code tasks} (newest first), {@code taskSummary} (by function and state),
 * {@code streams} (with rates, lag and whether stalled now) and {@code storeHistory} ({@code [time,
 * used, capacity, spilled]} rows). Ids are hex. Stateless.
 */
final class SnapshotJson {
  private SnapshotJson() {}

  /** Everything one snapshot holds. */
  record Parts(
      long timeMillis,
      String error,
      List<NodeState> nodes,
      List<WorkerState> workers,
      List<TaskState> tasks,
      TaskSummary summary,
      List<StreamState> streams,
      Set<ObjectId> stalledNow,
      List<StoreHistory.Sample> storeHistory) {}

  static String write(Parts p) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("time", p.timeMillis());
    doc.put("error", p.error());
    doc.put("cluster", cluster(p));
    doc.put("nodes", p.nodes().stream().map(SnapshotJson::node).toList());
    doc.put("workers", p.workers().stream().map(SnapshotJson::worker).toList());
    doc.put("tasks", p.tasks().reversed().stream().map(SnapshotJson::task).toList());
    doc.put("taskSummary", summary(p.summary()));
    List<Object> streams = new ArrayList<>();
    for (StreamState s : p.streams()) {
      streams.add(stream(s, p.stalledNow().contains(s.streamId())));
    }
    doc.put("streams", streams);
    List<Object> history = new ArrayList<>();
    for (StoreHistory.Sample s : p.storeHistory()) {
      history.add(List.of(s.timeMillis(), s.used(), s.capacity(), s.spilled()));
    }
    doc.put("storeHistory", history);
    return StateJson.htmlSafe(doc);
  }

  private static Map<String, Object> cluster(Parts p) {
    Map<String, Double> total = new TreeMap<>();
    Map<String, Double> available = new TreeMap<>();
    long capacity = 0;
    long used = 0;
    long spilled = 0;
    long objects = 0;
    int alive = 0;
    for (NodeState n : p.nodes()) {
      if (!alive(n)) {
        continue;
      }
      alive++;
      n.resourcesTotal().forEach((k, v) -> total.merge(k, v, Double::sum));
      n.resourcesAvailable().forEach((k, v) -> available.merge(k, v, Double::sum));
      capacity += n.objectStoreCapacityBytes();
      used += n.objectStoreUsedBytes();
      spilled += n.spilledBytes();
      objects += n.objectStoreObjects();
    }
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("nodesAlive", alive);
    c.put("nodesDead", p.nodes().size() - alive);
    c.put("workers", p.workers().stream().filter(w -> !w.state().equals("DEAD")).count());
    c.put("resourcesTotal", total);
    c.put("resourcesAvailable", available);
    c.put("storeCapacity", capacity);
    c.put("storeUsed", used);
    c.put("storeSpilled", spilled);
    c.put("storeObjects", objects);
    c.put("streamsOpen", p.streams().stream().filter(s -> s.state().equals("RUNNING")).count());
    Map<String, Long> taskStates = new LinkedHashMap<>();
    for (TaskStatus st : TaskStatus.values()) {
      long n = 0;
      if (p.summary() != null) {
        for (Map<TaskStatus, Long> counts : p.summary().byFunction().values()) {
          n += counts.getOrDefault(st, 0L);
        }
      }
      if (n > 0) {
        taskStates.put(st.name(), n);
      }
    }
    c.put("taskStates", taskStates);
    c.put("tasksTotal", p.summary() == null ? 0 : p.summary().totalTasks());
    return c;
  }

  static boolean alive(NodeState n) {
    return n.state().equals("ALIVE");
  }

  private static Map<String, Object> node(NodeState n) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", n.nodeId().hex());
    m.put("address", n.address());
    m.put("head", n.head());
    m.put("alive", alive(n));
    m.put("pid", n.pid());
    m.put("resourcesTotal", new TreeMap<>(n.resourcesTotal()));
    m.put("resourcesAvailable", new TreeMap<>(n.resourcesAvailable()));
    m.put("workers", n.workers());
    m.put("storeCapacity", n.objectStoreCapacityBytes());
    m.put("storeUsed", n.objectStoreUsedBytes());
    m.put("storeObjects", n.objectStoreObjects());
    m.put("spilled", n.spilledBytes());
    m.put("deathReason", n.deathReason());
    return m;
  }

  private static Map<String, Object> worker(WorkerState w) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", w.workerId().hex());
    m.put("node", w.nodeId().hex());
    m.put("pid", w.pid());
    m.put("state", w.state());
    m.put("address", w.address());
    m.put("job", w.jobId() == null ? null : w.jobId().hex());
    return m;
  }

  private static Map<String, Object> task(TaskState t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", t.taskId().hex());
    m.put("name", t.name());
    m.put("function", t.functionName());
    m.put("state", t.state() == null ? null : t.state().name());
    m.put("generator", t.generator());
    m.put("attempt", t.attemptNumber());
    m.put("node", t.nodeId() == null ? null : t.nodeId().hex());
    m.put("worker", t.workerId() == null ? null : t.workerId().hex());
    m.put("submitted", millis(t.submittedAt()));
    m.put("start", millis(t.startedAt()));
    m.put("end", millis(t.endedAt()));
    m.put("error", t.errorMessage());
    return m;
  }

  private static Map<String, Object> summary(TaskSummary s) {
    Map<String, Object> m = new TreeMap<>();
    if (s != null) {
      s.byFunction()
          .forEach(
              (function, counts) -> {
                Map<String, Long> byState = new LinkedHashMap<>();
                for (TaskStatus st : TaskStatus.values()) {
                  Long n = counts.get(st);
                  if (n != null && n > 0) {
                    byState.put(st.name(), n);
                  }
                }
                m.put(function, byState);
              });
    }
    return m;
  }

  private static Map<String, Object> stream(StreamState s, boolean stalledNow) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.streamId().hex());
    m.put("task", s.taskId().hex());
    m.put("function", s.functionName());
    m.put("state", s.state());
    m.put("owner", s.ownerWorkerId() == null ? null : s.ownerWorkerId().hex());
    m.put("ownerNode", s.ownerNodeId() == null ? null : s.ownerNodeId().hex());
    m.put("produced", s.itemsProduced());
    m.put("consumed", s.itemsConsumed());
    m.put("held", s.itemsHeld());
    m.put("lag", s.itemsProduced() - s.itemsConsumed());
    m.put("window", s.backpressureWindow());
    m.put("stalledSeconds", s.stalledSeconds());
    m.put("producedPerSecond", s.producedPerSecond());
    m.put("consumedPerSecond", s.consumedPerSecond());
    m.put("stalledNow", stalledNow);
    return m;
  }

  private static Long millis(Instant t) {
    return t == null ? null : t.toEpochMilli();
  }
}
