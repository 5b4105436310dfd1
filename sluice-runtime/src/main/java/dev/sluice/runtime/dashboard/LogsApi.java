package dev.sluice.runtime.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.sluice.runtime.logging.LogFileNames;
import dev.sluice.runtime.logging.LogFiles;
import dev.sluice.runtime.state.StateJson;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dashboard's log endpoints (DESIGN "Dashboard"), answered by proxying to the node manager that
 * holds the file ({@link NodeLogClient}), found by the {@link LogLocator}:
 *
 * <ul>
 *   <li>{@code GET /api/logs[?node=ID]}: every live node's log files, each with the worker it
 *       belongs to ({@code {"nodes":[{"id","address","head","error","files":[{"name","size",
 *       "modified","worker"}]}]}});
 *   <li>{@code GET /api/log?worker=ID|daemon|file=NAME [&node=ID] [&out] [&offset=N|&tail=N]}: at
 *       most {@value #MAX_BYTES} bytes of a worker's log ({@code out}: its standard output and
 *       error), the node daemon's or a file by name, from byte {@code offset} on (a poll) or from
 *       its last {@code tail} lines (default {@value #DEFAULT_TAIL}): {@code
 *       {"node","worker","name", "offset","next","more","text"}}; {@code next} is the offset to
 *       poll from, {@code more} says that more was there already.
 * </ul>
 *
 * Errors answer {@code {"error": "..."}} with 400 (a bad parameter or name), 404 (no such node,
 * worker or file) or 502 (the node did not answer). JSON strings are written HTML-safe. Stateless
 * apart from its collaborators; each request on its own thread.
 */
final class LogsApi implements HttpHandler {
  /** The most bytes of a log one answer carries. */
  static final int MAX_BYTES = 256 * 1024;

  static final int DEFAULT_TAIL = 1000;
  private static final int MAX_TAIL = 100_000;

  private final LogLocator locator;
  private final NodeLogClient client;

  LogsApi(LogLocator locator, NodeLogClient client) {
    this.locator = locator;
    this.client = client;
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try (ex) {
      DashboardServer.securityHeaders(ex);
      ex.getResponseHeaders().add("Cache-Control", "no-store");
      if (!ex.getRequestMethod().equals("GET")) {
        ex.sendResponseHeaders(405, -1);
        return;
      }
      Object answer;
      int status = 200;
      try {
        Map<String, String> q = query(ex.getRequestURI().getRawQuery());
        answer =
            switch (ex.getRequestURI().getPath()) {
              case "/api/logs" -> list(q);
              case "/api/log" -> read(q);
              default -> throw new LogRequestException(404, "no such endpoint");
            };
      } catch (LogRequestException e) {
        status = e.status();
        answer = Map.of("error", e.getMessage());
      }
      byte[] body = StateJson.htmlSafe(answer).getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(status, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private Map<String, Object> list(Map<String, String> q) throws LogRequestException {
    List<Object> nodes = new ArrayList<>();
    for (LogLocator.Node n : locator.liveNodes(q.get("node"))) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", n.id());
      m.put("address", n.target());
      m.put("head", n.head());
      List<Object> files = new ArrayList<>();
      try {
        for (LogFiles.Entry f : client.list(n.id(), n.target())) {
          Map<String, Object> file = new LinkedHashMap<>();
          file.put("name", f.name());
          file.put("size", f.size());
          file.put("modified", f.modifiedMillis());
          file.put("worker", workerOf(f.name()));
          files.add(file);
        }
        m.put("error", null);
      } catch (LogRequestException e) {
        m.put("error", e.getMessage());
      }
      m.put("files", files);
      nodes.add(m);
    }
    return Map.of("nodes", nodes);
  }

  /** The worker id prefix a file name carries ({@code worker-<12 hex>...}), or null. */
  static String workerOf(String name) {
    int end = "worker-".length() + LogFileNames.WORKER_ID_CHARS;
    if (!name.startsWith("worker-") || name.length() < end) {
      return null;
    }
    String id = name.substring("worker-".length(), end);
    return id.chars().allMatch(c -> Character.digit(c, 16) >= 0) ? id : null;
  }

  private Map<String, Object> read(Map<String, String> q) throws LogRequestException {
    boolean out = q.containsKey("out");
    LogLocator.Located where;
    if (q.containsKey("worker")) {
      where = locator.worker(q.get("worker"), q.get("node"), out);
    } else if (q.containsKey("daemon")) {
      where = locator.daemon(q.get("node"), out);
    } else if (q.containsKey("file")) {
      where = locator.file(q.get("file"), q.get("node"));
    } else {
      throw new LogRequestException(400, "say which log: worker=ID, daemon or file=NAME");
    }
    Long offset = q.containsKey("offset") ? number(q, "offset", 0, Long.MAX_VALUE) : null;
    int tail = q.containsKey("tail") ? (int) number(q, "tail", 0, MAX_TAIL) : DEFAULT_TAIL;
    NodeLogClient.Piece piece =
        client.read(
            where.node().id(), where.node().target(), where.name(), offset, tail, MAX_BYTES);
    byte[] data = piece.data();
    int whole = wholeCharacters(data);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("node", where.node().id());
    m.put("worker", where.worker());
    m.put("name", where.name());
    m.put("offset", piece.offset());
    m.put("next", piece.offset() + whole);
    m.put("more", data.length >= MAX_BYTES);
    m.put("text", new String(data, 0, whole, StandardCharsets.UTF_8));
    return m;
  }

  /** How many of {@code data}'s bytes end on a whole UTF-8 character (the rest comes next time). */
  static int wholeCharacters(byte[] data) {
    int n = data.length;
    for (int back = 1; back <= 3 && back <= n; back++) {
      int b = data[n - back] & 0xff;
      if ((b & 0xc0) == 0x80) {
        continue; // a continuation byte: look further back for its lead byte
      }
      int len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return len > back ? n - back : n;
    }
    return n;
  }

  private static long number(Map<String, String> q, String key, long min, long max)
      throws LogRequestException {
    try {
      long v = Long.parseLong(q.get(key));
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new LogRequestException(400, key + " must be a whole number from " + min + " to " + max);
  }

  /**
   * The query's parameters, decoded (the first of each name); {@code node} and {@code worker} only
   * when not empty.
   */
  private static Map<String, String> query(String raw) throws LogRequestException {
    Map<String, String> q = new HashMap<>();
    if (raw == null) {
      return q;
    }
    try {
      for (String kv : raw.split("&")) {
        int eq = kv.indexOf('=');
        String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
        String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
        if (!k.isEmpty() && !(v.isEmpty() && (k.equals("node") || k.equals("worker")))) {
          q.putIfAbsent(k, v);
        }
      }
    } catch (IllegalArgumentException e) {
      throw new LogRequestException(400, "the query is not URL-encoded: " + e.getMessage());
    }
    return q;
  }
}
