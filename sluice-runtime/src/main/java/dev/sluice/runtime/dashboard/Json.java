package dev.sluice.runtime.dashboard;

import java.util.List;
import java.util.Map;

/**
 * Writes the dashboard's snapshots as JSON: maps (insertion order kept), lists, strings, numbers,
 * booleans and null. Non-finite numbers become null. Stateless.
 */
final class Json {
  private Json() {}

  /** {@code value} as JSON text. */
  static String write(Object value) {
    StringBuilder b = new StringBuilder(256);
    append(b, value);
    return b.toString();
  }

  private static void append(StringBuilder b, Object v) {
    switch (v) {
      case null -> b.append("null");
      case String s -> quote(b, s);
      case Boolean bool -> b.append(bool.booleanValue());
      case Double d -> number(b, d);
      case Float f -> number(b, f.doubleValue());
      case Number n -> b.append(n.longValue());
      case Map<?, ?> m -> {
        b.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : m.entrySet()) {
          if (!first) {
            b.append(',');
          }
          first = false;
          quote(b, String.valueOf(e.getKey()));
          b.append(':');
          append(b, e.getValue());
        }
        b.append('}');
      }
      case List<?> l -> {
        b.append('[');
        for (int i = 0; i < l.size(); i++) {
          if (i > 0) {
            b.append(',');
          }
          append(b, l.get(i));
        }
        b.append(']');
      }
      default -> quote(b, v.toString());
    }
  }

  private static void number(StringBuilder b, double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      b.append("null");
    } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      b.append((long) d);
    } else {
      b.append(d);
    }
  }

  private static void quote(StringBuilder b, String s) {
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
          // '<' too, so that no snapshot can close a <script> element it is embedded in
          if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x2028 || c == 0x2029) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
