package dev.sluice.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * A Markdown table whose columns are padded to line up in a terminal, so that the same text reads
 * well in a console and pastes into a README or an issue.
 */
public final class ResultTable {
  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();

  /** A table with these column headers. */
  public ResultTable(String... headers) {
    this.headers = List.of(headers);
  }

  /** Adds a row; it must have one cell per column. */
  public ResultTable addRow(String... cells) {
    if (cells.length != headers.size()) {
      throw new IllegalArgumentException(
          "row has " + cells.length + " cells, table has " + headers.size() + " columns");
    }
    rows.add(List.of(cells));
    return this;
  }

  /** The table as Markdown text, one line per row, ending in a newline. */
  public String render() {
    int[] widths = new int[headers.size()];
    for (int c = 0; c < widths.length; c++) {
      widths[c] = Math.max(3, headers.get(c).length());
      for (List<String> row : rows) {
        widths[c] = Math.max(widths[c], row.get(c).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    appendLine(sb, headers, widths);
    List<String> rule = new ArrayList<>();
    for (int w : widths) {
      rule.add("-".repeat(w));
    }
    appendLine(sb, rule, widths);
    for (List<String> row : rows) {
      appendLine(sb, row, widths);
    }
    return sb.toString();
  }

  private static void appendLine(StringBuilder sb, List<String> cells, int[] widths) {
    sb.append('|');
    for (int c = 0; c < widths.length; c++) {
      String cell = cells.get(c);
      sb.append(' ').append(cell).append(" ".repeat(widths[c] - cell.length())).append(" |");
    }
    sb.append('\n');
  }
}
