package dev.sluice;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link ClusterState} listing returns: rows whose fields equal every filter, at most {@code
 * limit} of them (Ray's {@code filters} and {@code limit}). Immutable; start from {@link #all()}
 * and add with {@link #filter} and {@link #limit}:
 *
 * <pre>{@code
 * Sluice.state().tasks(StateQuery.all().filter("state", "FAILED").limit(20));
 * }</pre>
 *
 * <p>A filter key is a row's field name in snake case, as {@code sluice list --format json} prints
 * it (e.g. {@code state}, {@code name}, {@code node_id}, {@code job_id}, {@code function_name});
 * values compare as text, ignoring case (ids in hex). An unknown key matches no row.
 *
 * @param filters field name to required value; every one must match
 * @param limit the most rows returned, at least 1 ({@link #DEFAULT_LIMIT} by default)
 */
public record StateQuery(Map<String, String> filters, int limit) {
  /** Rows returned when no limit is set (Ray's default too). */
  public static final int DEFAULT_LIMIT = 100;

  /** Checks and copies the arguments. */
  public StateQuery {
    filters = Map.copyOf(filters);
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1, got " + limit);
    }
  }

  /** Every row, up to {@link #DEFAULT_LIMIT}. */
  public static StateQuery all() {
    return new StateQuery(Map.of(), DEFAULT_LIMIT);
  }

  /** This query with one more filter: rows whose field {@code key} equals {@code value}. */
  public StateQuery filter(String key, String value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    Map<String, String> more = new LinkedHashMap<>(filters);
    more.put(key, value);
    return new StateQuery(more, limit);
  }

  /** This query returning at most {@code limit} rows. */
  public StateQuery limit(int limit) {
    return new StateQuery(filters, limit);
  }
}
