package dev.sluice.runtime.dashboard;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The dashboard's access rule: every request carries the cluster token, or gets 401. A browser
 * gives it once in the address ({@code ?token=...}): the answer is a redirect to the same page
 * without it that sets an {@code HttpOnly}, {@code SameSite=Strict} session cookie, so the token
 * leaves the address bar and history; the cookie holds a digest of the token, not the token.
 * Scripts send {@code Authorization: Bearer <token>}. Comparisons take constant time. Immutable and
 * thread-safe.
 */
final class DashboardAuth extends Filter {
  static final String COOKIE = "sluice_dashboard";

  private final byte[] token;
  private final String cookieValue;

  DashboardAuth(String token) {
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.cookieValue = cookieValueOf(token);
  }

  @Override
  public String description() {
    return "cluster token (Bearer header, ?token= or session cookie)";
  }

  @Override
  public void doFilter(HttpExchange ex, Chain chain) throws IOException {
    String fromQuery = queryToken(ex.getRequestURI());
    if (fromQuery != null) {
      if (!matches(fromQuery)) {
        refuse(ex, "the token in the address is not this cluster's token");
        return;
      }
      ex.getResponseHeaders()
          .add("Set-Cookie", COOKIE + "=" + cookieValue + "; Path=/; HttpOnly; SameSite=Strict");
      ex.getResponseHeaders().add("Location", ex.getRequestURI().getRawPath());
      ex.getResponseHeaders().add("Cache-Control", "no-store");
      ex.sendResponseHeaders(303, -1);
      ex.close();
      return;
    }
    if (bearerMatches(ex) || cookieMatches(ex)) {
      chain.doFilter(ex);
      return;
    }
    refuse(ex, "this page needs the cluster's token");
  }

  private boolean matches(String candidate) {
    return MessageDigest.isEqual(token, candidate.getBytes(StandardCharsets.UTF_8));
  }

  private boolean bearerMatches(HttpExchange ex) {
    for (String h : headers(ex, "Authorization")) {
      if (h.regionMatches(true, 0, "Bearer ", 0, 7) && matches(h.substring(7).trim())) {
        return true;
      }
    }
    return false;
  }

  private boolean cookieMatches(HttpExchange ex) {
    byte[] expected = cookieValue.getBytes(StandardCharsets.US_ASCII);
    for (String h : headers(ex, "Cookie")) {
      for (String part : h.split(";")) {
        String c = part.trim();
        if (c.startsWith(COOKIE + "=")
            && MessageDigest.isEqual(
                expected, c.substring(COOKIE.length() + 1).getBytes(StandardCharsets.US_ASCII))) {
          return true;
        }
      }
    }
    return false;
  }

  private static List<String> headers(HttpExchange ex, String name) {
    List<String> v = ex.getRequestHeaders().get(name);
    return v == null ? List.of() : v;
  }

  private static String queryToken(URI uri) {
    String q = uri.getRawQuery();
    if (q == null) {
      return null;
    }
    for (String kv : q.split("&")) {
      if (kv.startsWith("token=")) {
        return URLDecoder.decode(kv.substring(6), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private static void refuse(HttpExchange ex, String why) throws IOException {
    byte[] body =
        ("<!doctype html><meta charset=utf-8><title>Sluice dashboard: token required</title>"
                + "<h1>401: token required</h1><p>"
                + why
                + ". Open the dashboard address that <code>sluice start --head</code> printed"
                + " (it ends in <code>?token=...</code>), or send"
                + " <code>Authorization: Bearer &lt;token&gt;</code>.</p>")
            .getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
    ex.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"sluice\"");
    ex.getResponseHeaders().add("Cache-Control", "no-store");
    ex.sendResponseHeaders(401, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  private static String cookieValueOf(String token) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update("sluice-dashboard-session:".getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(sha.digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
