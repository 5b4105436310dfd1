package dev.sluice.runtime.dashboard;

import dev.sluice.runtime.dashboard.ClusterView.NodeRow;
import dev.sluice.runtime.dashboard.ClusterView.StreamRow;
import dev.sluice.runtime.dashboard.ClusterView.TaskRow;
import dev.sluice.runtime.dashboard.ClusterView.WorkerRow;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON document the dashboard's pages render (one per second over server-sent events, and at
 * {@code /api/snapshot}): {@code time}, {@code error}, {@code cluster} (totals), {@code nodes},
 * {@code workers}, {@code tasks}, {@code streams} (with rates and lag) and {@code storeHistory}.
 * Stateless.
 */
final class SnapshotJson {
  private SnapshotJson() {}

  /** Everything one snapshot holds. */
  record Parts(
      long timeMillis,
      String error,
      List<NodeRow> nodes,
      List<WorkerRow> workers,
      List<TaskRow> tasks,
      List<StreamRow> streams,
      Map<String, StreamRates.Live> rates,
      List<StoreHistory.Sample> storeHistory) {}

  static String write(Parts p) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("time", p.timeMillis());
    doc.put("error", p.error());
    doc.put("cluster", cluster(p));
    doc.put("nodes", p.nodes().stream().map(SnapshotJson::node).toList());
    doc.put("workers", p.workers().stream().map(SnapshotJson::worker).toList());
    doc.put("tasks", p.tasks().stream().map(SnapshotJson::task).toList());
    List<Object> streams = new ArrayList<>();
    for (StreamRow s : p.streams()) {
      streams.add(stream(s, p.rates().get(s.streamId())));
    }
    doc.put("streams", streams);
    List<Object> history = new ArrayList<>();
    for (StoreHistory.Sample s : p.storeHistory()) {
      history.add(List.of(s.timeMillis(), s.used(), s.capacity(), s.spilled()));
    }
    doc.put("storeHistory", history);
    return Json.write(doc);
  }

  private static Map<String, Object> cluster(Parts p) {
    Map<String, Double> total = new LinkedHashMap<>();
    Map<String, Double> available = new LinkedHashMap<>();
    long capacity = 0;
    long used = 0;
    long spilled = 0;
    long objects = 0;
    int alive = 0;
    for (NodeRow n : p.nodes()) {
      if (!n.alive()) {
        continue;
      }
      alive++;
      n.resourcesTotal().forEach((k, v) -> total.merge(k, v, Double::sum));
      n.resourcesAvailable().forEach((k, v) -> available.merge(k, v, Double::sum));
      capacity += n.storeCapacity();
      used += n.storeUsed();
      spilled += n.spilled();
      objects += n.storeObjects();
    }
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("nodesAlive", alive);
    c.put("nodesDead", p.nodes().size() - alive);
    c.put("workers", p.workers().size());
    c.put("resourcesTotal", total);
    c.put("resourcesAvailable", available);
    c.put("storeCapacity", capacity);
    c.put("storeUsed", used);
    c.put("storeSpilled", spilled);
    c.put("storeObjects", objects);
    c.put("streamsOpen", p.streams().stream().filter(s -> !s.finished()).count());
    Map<String, Integer> taskStates = new LinkedHashMap<>();
    for (TaskRow t : p.tasks()) {
      taskStates.merge(t.state(), 1, Integer::sum);
    }
    c.put("taskStates", taskStates);
    return c;
  }

  private static Map<String, Object> node(NodeRow n) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", n.nodeId());
    m.put("address", n.address());
    m.put("head", n.head());
    m.put("alive", n.alive());
    m.put("resourcesTotal", n.resourcesTotal());
    m.put("resourcesAvailable", n.resourcesAvailable());
    m.put("workers", n.workers());
    m.put("storeCapacity", n.storeCapacity());
    m.put("storeUsed", n.storeUsed());
    m.put("storeObjects", n.storeObjects());
    m.put("spilled", n.spilled());
    m.put("deathReason", n.deathReason());
    return m;
  }

  private static Map<String, Object> worker(WorkerRow w) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", w.workerId());
    m.put("node", w.nodeId());
    m.put("pid", w.pid());
    m.put("state", w.state());
    m.put("detail", w.detail());
    return m;
  }

  private static Map<String, Object> task(TaskRow t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", t.taskId());
    m.put("function", t.function());
    m.put("state", t.state());
    m.put("node", t.nodeId());
    m.put("worker", t.workerId());
    m.put("attempt", t.attempt());
    m.put("start", t.startMillis());
    m.put("end", t.endMillis());
    return m;
  }

  private static Map<String, Object> stream(StreamRow s, StreamRates.Live live) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.streamId());
    m.put("task", s.taskId());
    m.put("function", s.function());
    m.put("owner", s.owner());
    m.put("produced", s.produced());
    m.put("consumed", s.consumed());
    m.put("held", s.held());
    m.put("lag", s.produced() - s.consumed());
    m.put("window", s.window());
    m.put("stalledMillis", s.stalledMillis());
    m.put("finished", s.finished());
    m.put("producedPerSecond", live == null ? 0.0 : live.producedPerSecond());
    m.put("consumedPerSecond", live == null ? 0.0 : live.consumedPerSecond());
    m.put("stalledNow", live != null && live.stalledNow());
    return m;
  }
}
