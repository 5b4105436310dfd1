package dev.sluice.runtime.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.sluice.runtime.metrics.SluiceMetrics.NodeState;
import dev.sluice.runtime.metrics.SluiceMetrics.Side;
import dev.sluice.runtime.metrics.SluiceMetrics.StoreKind;
import dev.sluice.runtime.metrics.SluiceMetrics.TaskState;
import dev.sluice.runtime.metrics.SluiceMetrics.WorkerState;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Rules of README "Metrics": every documented metric is exported under its documented Prometheus
 * name from the start, at zero; what is recorded shows in the scraped text; pushed counters add up
 * and never go down, pushed gauges count while their sender lives; with observability off nothing
 * is recorded.
 */
class SluiceMetricsTest {

  /** The value of the sample {@code name{labels}} in {@code text}, or null if absent. */
  static Double sample(String text, String name, String labels) {
    Pattern p =
        Pattern.compile(
            "^"
                + Pattern.quote(name)
                + (labels.isEmpty() ? "" : "\\{" + Pattern.quote(labels) + "\\}")
                + " (\\S+)$",
            Pattern.MULTILINE);
    Matcher m = p.matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : null;
  }

  @Test
  void everyDocumentedMetricIsExportedAtZeroFromTheStart() {
    SluiceMetrics metrics = SluiceMetrics.create();
    metrics.declareRpcMethods(List.of("sluice.NodeManagerService/RequestWorkerLease"));
    String text = metrics.scrape();
    for (TaskState s : TaskState.values()) {
      assertThat(sample(text, "sluice_tasks_total", "state=\"" + lower(s) + "\"")).isZero();
    }
    assertThat(sample(text, "sluice_tasks_running", "")).isZero();
    assertThat(sample(text, "sluice_streams_open", "")).isZero();
    assertThat(sample(text, "sluice_stream_items_total", "side=\"produced\"")).isZero();
    assertThat(sample(text, "sluice_stream_items_total", "side=\"consumed\"")).isZero();
    assertThat(sample(text, "sluice_stream_backpressure_wait_seconds_total", "")).isZero();
    for (StoreKind k : StoreKind.values()) {
      assertThat(sample(text, "sluice_object_store_bytes", "kind=\"" + lower(k) + "\"")).isZero();
    }
    for (WorkerState s : WorkerState.values()) {
      assertThat(sample(text, "sluice_workers", "state=\"" + lower(s) + "\"")).isZero();
    }
    assertThat(sample(text, "sluice_worker_starts_total", "")).isZero();
    for (NodeState s : NodeState.values()) {
      assertThat(sample(text, "sluice_nodes", "state=\"" + lower(s) + "\"")).isZero();
    }
    assertThat(
            sample(
                text,
                "sluice_rpc_server_seconds_count",
                "method=\"sluice.NodeManagerService/RequestWorkerLease\""))
        .isZero();
    for (String name : SluiceMetrics.DOCUMENTED) {
      assertThat(text).as(name).contains("# TYPE " + name.replace("_total", ""));
    }
  }

  @Test
  void recordedValuesShowInTheScrapedText() {
    SluiceMetrics metrics = SluiceMetrics.create();
    metrics.tasks(TaskState.SUBMITTED).increment();
    metrics.tasks(TaskState.SUBMITTED).increment();
    metrics.tasks(TaskState.FINISHED).increment();
    metrics.streamItems(Side.PRODUCED).increment(5);
    metrics.streamItems(Side.CONSUMED).increment(3);
    metrics.backpressureWaited(1_500_000_000L);
    metrics.workerStarts().increment();
    metrics.taskStarted();
    metrics.addStreamsOpen(() -> 2);
    metrics.addStoreBytes(StoreKind.CAPACITY, () -> 1 << 20);
    metrics.addStoreBytes(StoreKind.USED, () -> 4096);
    metrics.addWorkers(WorkerState.IDLE, () -> 3);
    metrics.addNodes(NodeState.ALIVE, () -> 2);
    metrics.rpcServed("sluice.ControlService/AddJob", 2_000_000);
    String text = metrics.scrape();
    assertThat(sample(text, "sluice_tasks_total", "state=\"submitted\"")).isEqualTo(2.0);
    assertThat(sample(text, "sluice_tasks_total", "state=\"finished\"")).isEqualTo(1.0);
    assertThat(sample(text, "sluice_stream_items_total", "side=\"produced\"")).isEqualTo(5.0);
    assertThat(sample(text, "sluice_stream_items_total", "side=\"consumed\"")).isEqualTo(3.0);
    assertThat(sample(text, "sluice_stream_backpressure_wait_seconds_total", "")).isEqualTo(1.5);
    assertThat(sample(text, "sluice_worker_starts_total", "")).isEqualTo(1.0);
    assertThat(sample(text, "sluice_tasks_running", "")).isEqualTo(1.0);
    assertThat(sample(text, "sluice_streams_open", "")).isEqualTo(2.0);
    assertThat(sample(text, "sluice_object_store_bytes", "kind=\"capacity\"")).isEqualTo(1 << 20);
    assertThat(sample(text, "sluice_object_store_bytes", "kind=\"used\"")).isEqualTo(4096.0);
    assertThat(sample(text, "sluice_workers", "state=\"idle\"")).isEqualTo(3.0);
    assertThat(sample(text, "sluice_nodes", "state=\"alive\"")).isEqualTo(2.0);
    assertThat(
            sample(
                text, "sluice_rpc_server_seconds_count", "method=\"sluice.ControlService/AddJob\""))
        .isEqualTo(1.0);
    metrics.taskEnded();
    assertThat(sample(metrics.scrape(), "sluice_tasks_running", "")).isZero();
  }

  @Test
  void jvmMetricsAreExportedOnceBound() {
    SluiceMetrics metrics = SluiceMetrics.create();
    assertThat(metrics.scrape()).doesNotContain("jvm_memory_used_bytes");
    metrics.bindJvmMetrics();
    String text = metrics.scrape();
    assertThat(text)
        .contains("jvm_memory_used_bytes")
        .contains("jvm_threads_live_threads")
        .contains("system_cpu_count");
    metrics.close();
  }

  @Test
  void pushedCountersAddUpAndPushedGaugesCountWhileTheirSenderLives() {
    SluiceMetrics worker = SluiceMetrics.create();
    SluiceMetrics node = SluiceMetrics.create();
    worker.tasks(TaskState.SUBMITTED).increment(4);
    worker.streamItems(Side.PRODUCED).increment(10);
    worker.taskStarted();
    Map<String, Double> first = worker.drainCounters();
    assertThat(first).containsEntry("sluice.tasks|submitted", 4.0).hasSize(2);
    node.mergeReport("w1", first, worker.localGauges());
    assertThat(worker.drainCounters()).as("nothing new since the last drain").isEmpty();
    worker.tasks(TaskState.SUBMITTED).increment();
    node.mergeReport("w1", worker.drainCounters(), worker.localGauges());
    node.tasks(TaskState.SUBMITTED).increment(); // the node's own process counts too
    String text = node.scrape();
    assertThat(sample(text, "sluice_tasks_total", "state=\"submitted\"")).isEqualTo(6.0);
    assertThat(sample(text, "sluice_stream_items_total", "side=\"produced\"")).isEqualTo(10.0);
    assertThat(sample(text, "sluice_tasks_running", "")).isEqualTo(1.0);
    node.forgetSender("w1");
    text = node.scrape();
    assertThat(sample(text, "sluice_tasks_running", "")).as("gone with its sender").isZero();
    assertThat(sample(text, "sluice_tasks_total", "state=\"submitted\""))
        .as("a counter never goes down")
        .isEqualTo(6.0);
  }

  /**
   * Rule: the RPC times of a process that pushes its metrics (a worker) reach its node's timers
   * with their count, sum, buckets and max, and travel only once.
   */
  @Test
  void pushedRpcTimesAreReplayedIntoTheNodesTimers() {
    SluiceMetrics worker = SluiceMetrics.pushing(true);
    SluiceMetrics node = SluiceMetrics.create();
    String m = "sluice.CoreWorkerService/PushTasks";
    worker.rpcServed(m, 100_000);
    worker.rpcServed(m, 200_000);
    worker.rpcServed(m, 3_000_000);
    worker.rpcServed(m, 20_000_000_000L);
    node.rpcServed(m, 50_000); // the node's own process serves it too
    node.mergeReport("w1", worker.drainCounters(), worker.localGauges());
    node.mergeReport("w1", worker.drainCounters(), worker.localGauges());
    String text = node.scrape();
    String method = "method=\"" + m + "\"";
    assertThat(sample(text, "sluice_rpc_server_seconds_count", method)).isEqualTo(5.0);
    assertThat(sample(text, "sluice_rpc_server_seconds_sum", method))
        .isCloseTo(20.00335, within(1e-6));
    assertThat(sample(text, "sluice_rpc_server_seconds_max", method)).isEqualTo(20.0);
    assertThat(sample(text, "sluice_rpc_server_seconds_bucket", method + ",le=\"2.5E-4\""))
        .isEqualTo(3.0);
    assertThat(sample(text, "sluice_rpc_server_seconds_bucket", method + ",le=\"0.005\""))
        .isEqualTo(4.0);
    assertThat(sample(text, "sluice_rpc_server_seconds_bucket", method + ",le=\"10.0\""))
        .isEqualTo(4.0);
    assertThat(worker.scrape()).as("a worker keeps no timers of its own").doesNotContain(m);
  }

  @Test
  void withObservabilityOffNothingIsRecordedOrPushed() {
    SluiceMetrics off = SluiceMetrics.disabled();
    off.tasks(TaskState.SUBMITTED).increment();
    off.streamItems(Side.CONSUMED).increment();
    off.taskStarted();
    off.addStreamsOpen(() -> 1);
    assertThat(off.enabled()).isFalse();
    assertThat(off.drainCounters()).isEmpty();
    assertThat(off.localGauges()).isEmpty();
    assertThat(off.scrape()).doesNotContain("sluice_");
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(java.util.Locale.ROOT);
  }
}
