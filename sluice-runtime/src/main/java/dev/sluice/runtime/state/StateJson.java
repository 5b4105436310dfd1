package dev.sluice.runtime.state;

import dev.sluice.ObjectId;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Writes state rows and plain values as JSON: a row ({@code NodeState}, {@code TaskState}, ...) is
 * an object of its {@link StateFields} (snake-case keys), ids are hex strings, instants ISO-8601
 * strings, enums their names, maps objects, and non-finite numbers null. What {@code sluice list
 * --format json} prints, and (through {@link #htmlSafe}) the head dashboard's snapshots.
 *
 * <p>Stateless and thread-safe.
 */
public final class StateJson {
  private StateJson() {}

  /** {@code rows} as a JSON array of objects. */
  public static String rows(List<? extends Record> rows) {
    StringBuilder b = new StringBuilder();
    write(b, rows);
    return b.toString();
  }

  /** {@code value} as JSON. */
  public static String of(Object value) {
    StringBuilder b = new StringBuilder();
    write(b, value);
    return b.toString();
  }

  /**
   * {@code value} as JSON that can be embedded in HTML: {@code <}, {@code >}, {@code &}, U+2028 and
   * U+2029 in strings are written as unicode escapes, so no value can close a {@code <script>}
   * element it is embedded in. Parses to the same value as {@link #of}.
   */
  public static String htmlSafe(Object value) {
    StringBuilder b = new StringBuilder(256);
    write(b, value, true);
    return b.toString();
  }

  /** Appends {@code value} as JSON to {@code b}. */
  public static void write(StringBuilder b, Object value) {
    write(b, value, false);
  }

  private static void write(StringBuilder b, Object value, boolean html) {
    switch (value) {
      case null -> b.append("null");
      case Record r -> write(b, StateFields.of(r), html);
      case String s -> string(b, s, html);
      case ObjectId id -> string(b, id.hex(), html);
      case Instant i -> string(b, i.toString(), html);
      case Enum<?> e -> string(b, e.name(), html);
      case Boolean bool -> b.append(bool);
      case Double d -> b.append(Double.isFinite(d) ? number(d) : "null");
      case Float f -> b.append(Float.isFinite(f) ? number(f) : "null");
      case Number n -> b.append(n);
      case Map<?, ?> m -> {
        b.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : m.entrySet()) {
          if (!first) {
            b.append(',');
          }
          first = false;
          string(b, String.valueOf(e.getKey()), html);
          b.append(':');
          write(b, e.getValue(), html);
        }
        b.append('}');
      }
      case Collection<?> c -> {
        b.append('[');
        boolean first = true;
        for (Object o : c) {
          if (!first) {
            b.append(',');
          }
          first = false;
          write(b, o, html);
        }
        b.append(']');
      }
      default -> string(b, value.toString(), html);
    }
  }

  private static String number(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  private static void string(StringBuilder b, String s, boolean html) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20 || html && htmlSpecial(c)) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }

  private static boolean htmlSpecial(char c) {
    return c == '<' || c == '>' || c == '&' || c == 0x2028 || c == 0x2029;
  }
}
