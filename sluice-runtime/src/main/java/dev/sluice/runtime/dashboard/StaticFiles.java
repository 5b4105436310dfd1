package dev.sluice.runtime.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Serves the dashboard's pages from the class path: {@code /} is {@code index.html}, {@code
 * /static/NAME} a file of this package's {@code static} folder, {@code /lib/NAME} a file of the
 * uPlot WebJar's {@code dist} folder. Names are single path segments (no traversal). Stateless.
 */
final class StaticFiles implements HttpHandler {
  /** The uPlot WebJar's files; its version is the one sluice-runtime's pom depends on. */
  static final String UPLOT_DIST = "META-INF/resources/webjars/uplot/1.6.30/dist/";

  private static final String OWN = "dev/sluice/runtime/dashboard/static/";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final Map<String, String> TYPES =
      Map.of(
          "html", "text/html; charset=utf-8",
          "js", "text/javascript; charset=utf-8",
          "css", "text/css; charset=utf-8",
          "svg", "image/svg+xml",
          "png", "image/png");

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
        ex.sendResponseHeaders(405, -1);
        return;
      }
      String resource = resourceFor(path);
      InputStream in =
          resource == null
              ? null
              : StaticFiles.class.getClassLoader().getResourceAsStream(resource);
      if (in == null) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      try (in) {
        byte[] body = in.readAllBytes();
        String ext = resource.substring(resource.lastIndexOf('.') + 1);
        ex.getResponseHeaders()
            .add("Content-Type", TYPES.getOrDefault(ext, "application/octet-stream"));
        ex.getResponseHeaders().add("Cache-Control", "no-cache");
        DashboardServer.securityHeaders(ex);
        if (ex.getRequestMethod().equals("HEAD")) {
          ex.sendResponseHeaders(200, -1);
          return;
        }
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  /** The class path resource for a request path, or null if there is none. */
  static String resourceFor(String path) {
    if (path.equals("/") || path.equals("/index.html")) {
      return OWN + "index.html";
    }
    if (path.startsWith("/static/") && NAME.matcher(path.substring(8)).matches()) {
      return OWN + path.substring(8);
    }
    if (path.startsWith("/lib/") && NAME.matcher(path.substring(5)).matches()) {
      return UPLOT_DIST + path.substring(5);
    }
    return null;
  }
}
