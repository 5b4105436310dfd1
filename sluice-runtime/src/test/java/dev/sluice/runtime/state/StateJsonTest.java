package dev.sluice.runtime.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one JSON writer shared by {@code sluice list --format json} and the dashboard snapshots. */
class StateJsonTest {
  private static Map<String, Object> doc() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("error", "</script><b>&\u2028\"q\"\n");
    m.put("rate", 2.5);
    m.put("whole", 3.0);
    m.put("nan", Double.NaN);
    m.put("count", 7L);
    m.put("rows", List.of(1, true));
    m.put("none", null);
    return m;
  }

  @Test
  void plainJsonKeepsMarkupCharactersAsTheyAre() {
    assertThat(StateJson.of(doc()))
        .isEqualTo(
            "{\"error\":\"</script><b>&\u2028\\\"q\\\"\\n\",\"rate\":2.5,\"whole\":3,\"nan\":null,"
                + "\"count\":7,\"rows\":[1,true],\"none\":null}");
  }

  @Test
  void htmlSafeJsonCannotCloseAScriptElement() {
    assertThat(StateJson.htmlSafe(doc()))
        .isEqualTo(
            "{\"error\":\"\\u003c/script\\u003e\\u003cb\\u003e\\u0026\\u2028\\\"q\\\"\\n\","
                + "\"rate\":2.5,\"whole\":3,\"nan\":null,\"count\":7,\"rows\":[1,true],\"none\":null}");
  }
}
