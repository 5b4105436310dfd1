package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * README "Metrics": a node daemon started by {@code sluice start --metrics-port} serves its metrics
 * in Prometheus text format at {@code /metrics} on its bind host (loopback here), and prints where.
 */
class MetricsCliTest {
  private CliCluster cluster;

  @BeforeEach
  void newRoot() {
    cluster = CliCluster.newRoot("metrics");
  }

  @AfterEach
  void stopEverything() {
    try {
      cluster.run("stop");
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(() -> assertThat(cluster.processes()).isEmpty());
    } finally {
      cluster.close();
    }
  }

  @Test
  @Timeout(180)
  void aHeadStartedWithAMetricsPortServesPrometheusText() throws Exception {
    CliRun head = cluster.startHead(1, "--metrics-port", "0");
    String prefix = "  metrics:         ";
    String url =
        head.outLines().stream()
            .filter(l -> l.startsWith(prefix))
            .map(l -> l.substring(prefix.length()).trim())
            .findFirst()
            .orElseThrow(() -> new AssertionError("no metrics line in\n" + head));
    assertThat(url).startsWith("http://127.0.0.1:").endsWith("/metrics");
    HttpClient http = HttpClient.newHttpClient();
    await("the head's prestarted worker shows in its metrics")
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              HttpResponse<String> r =
                  http.send(
                      HttpRequest.newBuilder(URI.create(url)).build(),
                      HttpResponse.BodyHandlers.ofString());
              assertThat(r.statusCode()).isEqualTo(200);
              assertThat(r.headers().firstValue("Content-Type"))
                  .hasValue("text/plain; version=0.0.4; charset=utf-8");
              assertThat(r.body().lines().toList())
                  .contains(
                      "sluice_nodes{state=\"alive\"} 1.0",
                      "sluice_workers{state=\"idle\"} 1.0",
                      "sluice_worker_starts_total 1.0",
                      "sluice_object_store_bytes{kind=\"capacity\"} 6.7108864E7",
                      "sluice_tasks_total{state=\"submitted\"} 0.0")
                  .anyMatch(l -> l.startsWith("jvm_memory_used_bytes{"))
                  .anyMatch(
                      l ->
                          l.startsWith(
                              "sluice_rpc_server_seconds_count{method=\"sluice.rpc.ControlService/RegisterNode\"}"));
            });
  }
}
