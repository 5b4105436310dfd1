package dev.sluice.runtime.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Rule: the Grafana dashboard in the repository ({@code docs/grafana/sluice.json}) is valid JSON
 * and every metric its panels query is one a Sluice process exports under that name.
 */
class GrafanaDashboardTest {
  private static final Path DASHBOARD = Path.of("..", "docs", "grafana", "sluice.json");
  private static final Pattern METRIC =
      Pattern.compile("\\b((?:sluice|jvm|process|system)_[a-z_]+)\\b");

  @Test
  void everyPanelQueriesExportedMetrics() throws Exception {
    JsonObject dashboard = JsonParser.parseString(Files.readString(DASHBOARD)).getAsJsonObject();
    List<JsonElement> panels = dashboard.getAsJsonArray("panels").asList();
    assertThat(panels).hasSizeGreaterThanOrEqualTo(10);
    Set<String> queried = new HashSet<>();
    for (JsonElement p : panels) {
      JsonObject panel = p.getAsJsonObject();
      List<JsonElement> targets = panel.getAsJsonArray("targets").asList();
      assertThat(targets).as(panel.get("title").getAsString()).isNotEmpty();
      for (JsonElement t : targets) {
        Matcher m = METRIC.matcher(t.getAsJsonObject().get("expr").getAsString());
        int found = 0;
        while (m.find()) {
          queried.add(m.group(1));
          found++;
        }
        assertThat(found).as("metrics in %s", panel.get("title")).isPositive();
      }
    }
    SluiceMetrics metrics = SluiceMetrics.create();
    metrics.bindJvmMetrics();
    metrics.declareRpcMethods(List.of("sluice.rpc.ControlService/RegisterNode"));
    // The GC pause timer appears with the first collection the JVM reports.
    await("a garbage collection reported")
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              System.gc();
              return exported(metrics.scrape()).contains("jvm_gc_pause_seconds_sum");
            });
    Set<String> exported = exported(metrics.scrape());
    assertThat(exported).containsAll(queried);
    assertThat(queried)
        .as("the dashboard shows every documented metric")
        .containsAll(
            SluiceMetrics.DOCUMENTED.stream()
                .map(n -> n.equals(SluiceMetrics.PROM_RPC_SERVER) ? n + "_bucket" : n)
                .toList());
    metrics.close();
  }

  private static Set<String> exported(String text) {
    Set<String> names = new HashSet<>();
    for (String line : text.lines().toList()) {
      if (!line.isEmpty() && !line.startsWith("#")) {
        int end = line.indexOf('{');
        names.add(line.substring(0, end >= 0 ? end : line.indexOf(' ')));
      }
    }
    return names;
  }
}
