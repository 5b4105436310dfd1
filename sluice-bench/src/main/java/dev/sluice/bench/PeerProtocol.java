package dev.sluice.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The line protocol between the bench and a child JVM it runs a peer or a Sluice driver in ({@link
 * PeerMain}, {@link PeerProcess}).
 *
 * <p>The bench writes one command per line on the child's standard input: {@code warmup K} or
 * {@code round K} (K: the index of one of the child's measurements) or {@code quit}. The child
 * answers each command, and announces that it is ready once after its start, with one line on
 * standard output: {@value #PREFIX} followed by a flat JSON object whose {@code "type"} is {@code
 * "ready"} (a server adds {@code "port"}), {@code "result"} (with the round's {@code "value"}, and
 * for a timed part its {@code "batches"}, {@code "seconds"} and the CPU seconds {@code "cpu"} of
 * the child and its descendants meanwhile), {@code "done"} (after a warm-up; a warm-up run until
 * steady adds {@code "seconds"}, {@code "steady"} and its {@code "windows"}' values,
 * comma-separated) or {@code "error"} (with a {@code "message"}). Any other line on standard output
 * is not part of the protocol and is ignored, so a library that prints there cannot break it.
 *
 * <p>Stateless; safe from any thread.
 */
final class PeerProtocol {
  /** Marks a protocol line on the child's standard output. */
  static final String PREFIX = "@sluice-bench-peer ";

  private PeerProtocol() {}

  /** A parsed protocol line: its type and every field as text. */
  record Reply(String type, Map<String, String> fields) {
    /** The {@code value} field of a result. */
    double value() {
      return Double.parseDouble(required("value"));
    }

    /** A result line's part: its value, and its batches and seconds if it gives them. */
    RoundPart part() {
      return new RoundPart(
          value(),
          fields.containsKey("batches") ? Integer.parseInt(fields.get("batches")) : 1,
          fields.containsKey("seconds") ? Double.parseDouble(fields.get("seconds")) : 0,
          fields.containsKey("cpu") ? Double.parseDouble(fields.get("cpu")) : Double.NaN);
    }

    /** A done line's warm-up report, or empty if the warm-up was only the fixed minimum. */
    Optional<WarmUpReport> warmUp() {
      if (!fields.containsKey("steady")) {
        return Optional.empty();
      }
      String w = fields.getOrDefault("windows", "");
      List<Double> windows =
          w.isEmpty() ? List.of() : Arrays.stream(w.split(",")).map(Double::valueOf).toList();
      return Optional.of(
          new WarmUpReport(
              Double.parseDouble(required("seconds")),
              windows,
              Boolean.parseBoolean(required("steady"))));
    }

    /** The {@code port} field of a server's ready line. */
    int port() {
      return Integer.parseInt(required("port"));
    }

    /** The field {@code key}; throws if the line has none. */
    String required(String key) {
      String v = fields.get(key);
      if (v == null) {
        throw new IllegalStateException("peer reply '" + type + "' has no field '" + key + "'");
      }
      return v;
    }
  }

  /**
   * One measurement a child hosts, as named on its command line: {@code kind:key=value,key=value}
   * (or just {@code kind}), e.g. {@code rsocket-rr:port=4711,warmup=20000,ops=5000}.
   */
  record Spec(String kind, Map<String, String> params) {
    Spec {
      params = Map.copyOf(params);
    }

    static Spec parse(String text) {
      int colon = text.indexOf(':');
      String kind = colon < 0 ? text : text.substring(0, colon);
      if (kind.isEmpty()) {
        throw new IllegalArgumentException("measurement spec without a kind: '" + text + "'");
      }
      Map<String, String> params = new LinkedHashMap<>();
      if (colon >= 0 && colon + 1 < text.length()) {
        for (String kv : text.substring(colon + 1).split(",")) {
          int eq = kv.indexOf('=');
          if (eq <= 0) {
            throw new IllegalArgumentException("bad parameter '" + kv + "' in '" + text + "'");
          }
          params.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
      }
      return new Spec(kind, params);
    }

    /** A spec of {@code kind} with {@code params} given as key, value, key, value, .... */
    static Spec of(String kind, Object... keyValues) {
      if (keyValues.length % 2 != 0) {
        throw new IllegalArgumentException("odd number of key/value arguments");
      }
      Map<String, String> params = new LinkedHashMap<>();
      for (int i = 0; i < keyValues.length; i += 2) {
        params.put(String.valueOf(keyValues[i]), String.valueOf(keyValues[i + 1]));
      }
      return new Spec(kind, params);
    }

    /** The text {@link #parse} reads back (parameters sorted by key). */
    String render() {
      StringBuilder sb = new StringBuilder(kind);
      String sep = ":";
      for (String k : params.keySet().stream().sorted().toList()) {
        sb.append(sep).append(k).append('=').append(params.get(k));
        sep = ",";
      }
      return sb.toString();
    }

    int intParam(String key) {
      String v = params.get(key);
      if (v == null) {
        throw new IllegalArgumentException(kind + " needs the parameter '" + key + "'");
      }
      return Integer.parseInt(v);
    }

    /** The parameter {@code key}, or {@code fallback} if the spec does not give it. */
    int intParam(String key, int fallback) {
      return params.containsKey(key) ? intParam(key) : fallback;
    }

    boolean boolParam(String key) {
      return Boolean.parseBoolean(params.get(key));
    }
  }

  /**
   * The ready line of a child hosting {@code measurements}: their count and, for each index {@code
   * K}, {@code nameK}, {@code unitK} (a {@link Measurement.Unit} constant) and {@code workK}.
   */
  static String ready(List<Measurement> measurements) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("type", "ready");
    fields.put("count", measurements.size());
    for (int k = 0; k < measurements.size(); k++) {
      Measurement m = measurements.get(k);
      fields.put("name" + k, m.name());
      fields.put("unit" + k, m.unit().name());
      fields.put("work" + k, m.workPerRound());
    }
    return line(fields);
  }

  /** A result line: {@code round}'s value. */
  static String result(double value) {
    return line(Map.of("type", "result", "value", value));
  }

  /** A result line of a timed part: its value, batches and seconds. */
  static String result(RoundPart part) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("type", "result");
    fields.put("value", part.value());
    fields.put("batches", part.batches());
    fields.put("seconds", part.seconds());
    if (!Double.isNaN(part.cpuSeconds())) {
      fields.put("cpu", part.cpuSeconds());
    }
    return line(fields);
  }

  /** The answer to a warm-up that ran until steady (or its limit): its report. */
  static String done(WarmUpReport report) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("type", "done");
    fields.put("seconds", report.seconds());
    fields.put("steady", Boolean.toString(report.steady()));
    fields.put(
        "windows", report.windows().stream().map(String::valueOf).collect(Collectors.joining(",")));
    return line(fields);
  }

  /** A ready line; {@code port} is the server's port, or negative for none. */
  static String ready(int port) {
    return port < 0 ? line(Map.of("type", "ready")) : line(Map.of("type", "ready", "port", port));
  }

  /** The answer to a warm-up. */
  static String done() {
    return line(Map.of("type", "done"));
  }

  /** An error line. */
  static String error(String message) {
    return line(Map.of("type", "error", "message", message == null ? "(no message)" : message));
  }

  /**
   * {@value #PREFIX} and {@code fields} as one JSON object; values are numbers (written exactly, as
   * {@link Double#toString} does) or strings. {@code type} comes first.
   */
  static String line(Map<String, ?> fields) {
    Map<String, Object> ordered = new LinkedHashMap<>();
    ordered.put("type", fields.get("type"));
    ordered.putAll(fields);
    StringBuilder sb = new StringBuilder(PREFIX).append('{');
    boolean first = true;
    for (Map.Entry<String, Object> e : ordered.entrySet()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      quote(sb, e.getKey());
      sb.append(':');
      Object v = e.getValue();
      if (v instanceof Double d) {
        if (d.isNaN() || d.isInfinite()) {
          throw new IllegalArgumentException("not a JSON number: " + d);
        }
        sb.append(d.toString());
      } else if (v instanceof Number n) {
        sb.append(n.toString());
      } else {
        quote(sb, String.valueOf(v));
      }
    }
    return sb.append('}').toString();
  }

  /**
   * Parses a line of the child's standard output: empty if it is not a protocol line; throws {@link
   * IllegalArgumentException} if it is one but malformed.
   */
  static Optional<Reply> parse(String line) {
    if (!line.startsWith(PREFIX)) {
      return Optional.empty();
    }
    Map<String, String> fields = new Parser(line.substring(PREFIX.length()).strip()).object();
    String type = fields.get("type");
    if (type == null) {
      throw new IllegalArgumentException("peer line without a type: " + line);
    }
    return Optional.of(new Reply(type, fields));
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  /** A parser of one flat JSON object whose values are strings or numbers. */
  private static final class Parser {
    private final String s;
    private int i;

    Parser(String s) {
      this.s = s;
    }

    Map<String, String> object() {
      Map<String, String> fields = new LinkedHashMap<>();
      expect('{');
      skipSpace();
      if (peek() == '}') {
        i++;
      } else {
        while (true) {
          skipSpace();
          String key = string();
          skipSpace();
          expect(':');
          skipSpace();
          fields.put(key, peek() == '"' ? string() : number());
          skipSpace();
          if (peek() == ',') {
            i++;
          } else {
            expect('}');
            break;
          }
        }
      }
      skipSpace();
      if (i != s.length()) {
        throw malformed("text after the object");
      }
      return fields;
    }

    private String string() {
      expect('"');
      StringBuilder sb = new StringBuilder();
      while (true) {
        char c = next();
        if (c == '"') {
          return sb.toString();
        }
        if (c != '\\') {
          sb.append(c);
          continue;
        }
        char e = next();
        switch (e) {
          case '"', '\\', '/' -> sb.append(e);
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'u' -> {
            if (i + 4 > s.length()) {
              throw malformed("short \\u escape");
            }
            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> throw malformed("bad escape \\" + e);
        }
      }
    }

    private String number() {
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
        i++;
      }
      String n = s.substring(start, i);
      try {
        Double.parseDouble(n);
      } catch (NumberFormatException e) {
        throw malformed("bad number '" + n + "'");
      }
      return n;
    }

    private void skipSpace() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
    }

    private char peek() {
      if (i >= s.length()) {
        throw malformed("unexpected end");
      }
      return s.charAt(i);
    }

    private char next() {
      char c = peek();
      i++;
      return c;
    }

    private void expect(char c) {
      if (next() != c) {
        throw malformed("expected '" + c + "'");
      }
    }

    private IllegalArgumentException malformed(String why) {
      return new IllegalArgumentException(
          "malformed peer line at " + i + " (" + why + "): " + PREFIX + s);
    }
  }
}
