package dev.sluice.cli;

import dev.sluice.runtime.state.StateFields;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prints state rows as an aligned text table: a header of upper-case field names, then one line per
 * row (ids in hex, rates with one decimal), then a count line. Stateless.
 */
final class StateTable {
  private StateTable() {}

  static void print(PrintWriter out, List<? extends Record> rows, List<String> columns) {
    List<String[]> lines = new ArrayList<>();
    lines.add(columns.stream().map(c -> c.toUpperCase(Locale.ROOT)).toArray(String[]::new));
    for (Record r : rows) {
      Map<String, Object> fields = StateFields.of(r);
      lines.add(columns.stream().map(c -> cell(fields.get(c))).toArray(String[]::new));
    }
    int[] widths = new int[columns.size()];
    for (String[] l : lines) {
      for (int i = 0; i < l.length; i++) {
        widths[i] = Math.max(widths[i], l[i].length());
      }
    }
    for (String[] l : lines) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < l.length; i++) {
        if (i > 0) {
          b.append("  ");
        }
        b.append(i == l.length - 1 ? l[i] : pad(l[i], widths[i]));
      }
      out.println(b.toString().stripTrailing());
    }
    out.println(rows.size() + (rows.size() == 1 ? " row" : " rows"));
  }

  private static String cell(Object v) {
    if (v instanceof Double d && d != Math.rint(d)) {
      return String.format(Locale.ROOT, "%.1f", d);
    }
    return StateFields.text(v);
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(width - s.length());
  }
}
