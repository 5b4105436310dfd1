package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.lang.ref.Reference;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * README "Metrics" end to end: an embedded driver started with {@code metricsPort(0)} serves
 * Prometheus text at {@code /metrics} on loopback, read-only; every documented metric is there at
 * zero before the first task; after tasks and a stream the task, stream and store metrics count
 * them, including what the worker JVMs counted and pushed to their node.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class MetricsEndpointTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int ITEMS = 40;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static URI endpoint;

  @BeforeAll
  static void startCluster() {
    SluiceTestSupport.start(
        SluiceConfig.builder().numCpus(2).objectStoreBytes(64L << 20).metricsPort(0).build());
    endpoint = URI.create("http://127.0.0.1:" + Sluice.metricsPort().orElseThrow() + "/metrics");
  }

  @AfterAll
  static void stopCluster() {
    SluiceTestSupport.stopAndAssertNoWorkers();
  }

  static int square(int x) {
    return x * x;
  }

  static int fail(int x) {
    throw new IllegalArgumentException("no " + x);
  }

  static byte[] large(int size) {
    return new byte[size];
  }

  static Iterator<Integer> numbers(int n) {
    return IntStream.range(0, n).iterator();
  }

  @Test
  void aDriverServesPrometheusTextWithTaskStreamAndStoreMetrics() throws Exception {
    HttpResponse<String> first = scrape();
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    String before = first.body();
    // Rule: every documented metric is exported from the start, at zero until something happens.
    assertThat(value(before, "sluice_tasks_total", "state=\"submitted\"")).isZero();
    assertThat(value(before, "sluice_tasks_total", "state=\"cancelled\"")).isZero();
    assertThat(value(before, "sluice_stream_items_total", "side=\"produced\"")).isZero();
    assertThat(value(before, "sluice_stream_backpressure_wait_seconds_total", "")).isZero();
    assertThat(value(before, "sluice_streams_open", "")).isZero();
    assertThat(value(before, "sluice_nodes", "state=\"alive\"")).isEqualTo(1.0);
    assertThat(value(before, "sluice_object_store_bytes", "kind=\"capacity\""))
        .isEqualTo((double) Sluice.objectStoreStats().sharedMemoryCapacityBytes());
    assertThat(before).contains("jvm_memory_used_bytes").contains("sluice_rpc_server_seconds");

    List<ObjectRef<Integer>> squares = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      squares.add(Sluice.task(MetricsEndpointTest::square, i).remote());
    }
    assertThat(Sluice.get(squares)).hasSize(10);
    ObjectRef<Integer> failed = Sluice.task(MetricsEndpointTest::fail, 1).remote();
    try {
      failed.get(WAIT);
    } catch (TaskException expected) {
      // counted as failed
    }
    ObjectRef<byte[]> big = Sluice.task(MetricsEndpointTest::large, 4 << 20).remote();
    assertThat(big.get(WAIT)).hasSize(4 << 20);

    try (ObjectRefGenerator<Integer> gen =
        Sluice.generator(MetricsEndpointTest::numbers, ITEMS)
            .options(TaskOptions.builder().generatorBackpressureNumObjects(1).build())
            .remote()) {
      ObjectRef<Integer> firstItem = gen.next();
      assertThat(firstItem.get(WAIT)).isZero();
      assertThat(value(scrape().body(), "sluice_streams_open", ""))
          .as("the stream is open while its generator is")
          .isEqualTo(1.0);
      int n = 1;
      while (gen.hasNext()) {
        gen.next().get(WAIT);
        n++;
      }
      assertThat(n).isEqualTo(ITEMS);
    }

    String after = scrape().body();
    assertThat(value(after, "sluice_tasks_total", "state=\"submitted\"")).isEqualTo(13.0);
    assertThat(value(after, "sluice_tasks_total", "state=\"finished\"")).isEqualTo(12.0);
    assertThat(value(after, "sluice_tasks_total", "state=\"failed\"")).isEqualTo(1.0);
    assertThat(value(after, "sluice_stream_items_total", "side=\"consumed\""))
        .isEqualTo((double) ITEMS);
    assertThat(value(after, "sluice_object_store_bytes", "kind=\"used\""))
        .as("the 4 MiB result lives in the node's store while referenced")
        .isGreaterThanOrEqualTo(4 << 20);
    assertThat(value(after, "sluice_worker_starts_total", "")).isGreaterThanOrEqualTo(2.0);
    assertThat(
            value(
                after,
                "sluice_rpc_server_seconds_count",
                "method=\"sluice.rpc.NodeManagerService/RegisterWorker\""))
        .isGreaterThanOrEqualTo(2.0);
    // Items produced and backpressure stalls are counted in the worker JVMs and pushed to the node.
    await("the producer's counts pushed by its worker")
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              String text = scrape().body();
              assertThat(value(text, "sluice_stream_items_total", "side=\"produced\""))
                  .isEqualTo((double) ITEMS);
              assertThat(value(text, "sluice_stream_backpressure_wait_seconds_total", ""))
                  .isPositive();
              assertThat(value(text, "sluice_streams_open", "")).isZero();
              assertThat(value(text, "sluice_tasks_running", "")).isZero();
              assertThat(
                      value(text, "sluice_workers", "state=\"idle\"")
                          + value(text, "sluice_workers", "state=\"busy\""))
                  .isGreaterThanOrEqualTo(2.0);
            });
    Reference.reachabilityFence(big);
  }

  @Test
  void theEndpointIsReadOnly() throws Exception {
    HttpResponse<String> post =
        HTTP.send(
            HttpRequest.newBuilder(endpoint).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    HttpResponse<String> other =
        HTTP.send(
            HttpRequest.newBuilder(endpoint.resolve("/metrics/../admin")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(other.statusCode()).isEqualTo(404);
  }

  private static HttpResponse<String> scrape() throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(endpoint).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The value of the sample {@code name{labels}}; fails if the text has none. */
  static double value(String text, String name, String labels) {
    Matcher m =
        Pattern.compile(
                "^"
                    + Pattern.quote(name)
                    + (labels.isEmpty() ? "" : "\\{" + Pattern.quote(labels) + "\\}")
                    + " (\\S+)$",
                Pattern.MULTILINE)
            .matcher(text);
    assertThat(m.find()).as("sample %s{%s} in\n%s", name, labels, text).isTrue();
    return Double.parseDouble(m.group(1));
  }
}
