package dev.sluice.runtime.core;

import com.google.protobuf.ByteString;
import dev.sluice.WorkerId;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.rpc.Callbacks;
import dev.sluice.runtime.rpc.proto.MetricsReport;
import dev.sluice.runtime.rpc.proto.MetricsReportReply;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import io.grpc.Channel;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Pushes a process's metrics to its node manager (DESIGN "Metrics"): about once a second, what its
 * counters gained since the last report and its gauges' values, so that the node's daemon exports
 * the sum of its workers. Nothing is sent while nothing changes, except the gauges every few
 * seconds while one is not zero (the node drops stale values). Deltas of a report that failed are
 * sent again with the next.
 *
 * <p>Threads: runs on the core worker's timer thread; a report's callback runs on a transport
 * thread.
 */
final class MetricsReportClient {
  static final long PERIOD_MILLIS = 1000;
  static final long GAUGE_REFRESH_NANOS = TimeUnit.SECONDS.toNanos(5);

  private final Channel channel;
  private final ByteString sender;
  private final SluiceMetrics metrics;

  /** Deltas of reports that failed, sent again with the next. */
  private final Map<String, Double> unsent = new ConcurrentHashMap<>();

  private volatile Map<String, Double> lastGauges = Map.of();
  private long lastSentNanos;

  private MetricsReportClient(Channel channel, WorkerId sender, SluiceMetrics metrics) {
    this.channel = channel;
    this.sender = ByteString.copyFrom(sender.toBytes());
    this.metrics = metrics;
  }

  /** Starts pushing {@code metrics} of process {@code sender} over {@code channel}. */
  static void schedule(
      Channel channel, WorkerId sender, SluiceMetrics metrics, ScheduledExecutorService timers) {
    if (!metrics.enabled()) {
      return;
    }
    MetricsReportClient c = new MetricsReportClient(channel, sender, metrics);
    timers.scheduleWithFixedDelay(c::report, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void report() {
    Map<String, Double> deltas = metrics.drainCounters();
    unsent.forEach((k, v) -> deltas.merge(k, v, k.endsWith("|max") ? Math::max : Double::sum));
    unsent.clear();
    Map<String, Double> gauges = metrics.localGauges();
    long now = System.nanoTime();
    boolean refresh =
        now - lastSentNanos > GAUGE_REFRESH_NANOS && gauges.values().stream().anyMatch(v -> v != 0);
    if (deltas.isEmpty() && Objects.equals(gauges, lastGauges) && !refresh) {
      return;
    }
    lastGauges = gauges;
    lastSentNanos = now;
    CompletableFuture<MetricsReportReply> reply = new CompletableFuture<>();
    NodeManagerServiceGrpc.newStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .reportMetrics(
            MetricsReport.newBuilder()
                .setSenderId(sender)
                .putAllCounterDeltas(deltas)
                .putAllGauges(gauges)
                .build(),
            Callbacks.into(reply));
    reply.whenComplete(
        (r, e) -> {
          if (e != null) {
            // A largest RPC time is kept as the largest; everything else adds up.
            deltas.forEach(
                (k, v) -> unsent.merge(k, v, k.endsWith("|max") ? Math::max : Double::sum));
            lastGauges = Map.of();
          }
        });
  }
}
