package dev.sluice.runtime.state;

import dev.sluice.ObjectId;
import dev.sluice.StateQuery;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields of a state row ({@code NodeState}, {@code TaskState}, ...) by their snake-case names,
 * in declaration order: what filters match ({@link #select}), and what {@link StateJson} and the
 * CLI's tables print. Ids become hex, instants ISO-8601 text, enums their names.
 *
 * <p>Stateless and thread-safe.
 */
public final class StateFields {
  private StateFields() {}

  /** The row's fields, snake-case name to value (null when absent). */
  public static Map<String, Object> of(Record row) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (RecordComponent c : row.getClass().getRecordComponents()) {
      Object v;
      try {
        v = c.getAccessor().invoke(row);
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new IllegalStateException("cannot read " + c.getName() + " of " + row, e);
      }
      out.put(snakeCase(c.getName()), v);
    }
    return out;
  }

  /** The names of a row type's fields, snake case, in order. */
  public static List<String> names(Class<? extends Record> type) {
    List<String> out = new ArrayList<>();
    for (RecordComponent c : type.getRecordComponents()) {
      out.add(snakeCase(c.getName()));
    }
    return out;
  }

  /** {@code value} as filters compare it and tables print it; "" for null. */
  public static String text(Object value) {
    return switch (value) {
      case null -> "";
      case ObjectId id -> id.hex();
      case Double d when d == Math.rint(d) && !Double.isInfinite(d) -> Long.toString(d.longValue());
      default -> value.toString();
    };
  }

  /** The rows of {@code rows} matching every filter of {@code query}, at most its limit. */
  public static <R extends Record> List<R> select(List<R> rows, StateQuery query) {
    List<R> out = new ArrayList<>();
    for (R row : rows) {
      if (out.size() >= query.limit()) {
        break;
      }
      if (matches(row, query.filters())) {
        out.add(row);
      }
    }
    return out;
  }

  private static boolean matches(Record row, Map<String, String> filters) {
    if (filters.isEmpty()) {
      return true;
    }
    Map<String, Object> fields = of(row);
    for (Map.Entry<String, String> f : filters.entrySet()) {
      if (!fields.containsKey(f.getKey())
          || !text(fields.get(f.getKey())).equalsIgnoreCase(f.getValue())) {
        return false;
      }
    }
    return true;
  }

  static String snakeCase(String camel) {
    StringBuilder b = new StringBuilder(camel.length() + 4);
    for (int i = 0; i < camel.length(); i++) {
      char ch = camel.charAt(i);
      if (Character.isUpperCase(ch)) {
        b.append('_').append(Character.toLowerCase(ch));
      } else {
        b.append(ch);
      }
    }
    return b.toString();
  }
}
