package dev.sluice.runtime.metrics;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ObjLongConsumer;

/**
 * The RPC server times of a process whose metrics are pushed, not served (a worker): per method, a
 * count and a sum of nanoseconds per histogram bucket and the largest time, drained as deltas into
 * the counter entries of its metrics report ({@link #drainInto}); the node manager replays them
 * into its own timers ({@link #replay}), so the node exports its workers' RPCs with its own.
 *
 * <p>Replaying a bucket records its count of calls at their mean (which lies in the same bucket),
 * and the largest call at its own time: bucket counts, count, sum and max come out as recorded.
 *
 * <p>Threads: {@link #record} from any thread, a striped add per call; {@link #drainInto} from one
 * pushing thread; {@link #replay} from any thread.
 */
final class PushedRpcTimes {
  /** Prefix of the report keys: {@code rpc|METHOD|BUCKET} (count), {@code ...|s} (nanos sum). */
  static final String KEY_PREFIX = "rpc|";

  private static final String MAX = "max";

  private final long[] boundsNanos;
  private final Map<String, Method> methods = new ConcurrentHashMap<>();

  PushedRpcTimes(Duration[] bounds) {
    boundsNanos = new long[bounds.length];
    for (int i = 0; i < bounds.length; i++) {
      boundsNanos[i] = bounds[i].toNanos();
    }
  }

  /** A call of {@code method} took {@code nanos}. */
  void record(String method, long nanos) {
    Method m = methods.get(method);
    if (m == null) {
      m = methods.computeIfAbsent(method, k -> new Method(boundsNanos.length + 1));
    }
    int b = bucket(nanos);
    m.counts[b].increment();
    m.sums[b].add(nanos);
    m.max.accumulateAndGet(nanos, Math::max);
  }

  /** Adds what was recorded since the previous drain to {@code out}, by report key. */
  void drainInto(Map<String, Double> out) {
    methods.forEach(
        (name, m) -> {
          for (int b = 0; b < m.counts.length; b++) {
            long n = m.counts[b].sumThenReset();
            long s = m.sums[b].sumThenReset();
            if (n > 0) {
              out.put(KEY_PREFIX + name + "|" + b, (double) n);
              out.put(KEY_PREFIX + name + "|" + b + "|s", (double) s);
            }
          }
          long max = m.max.getAndSet(0);
          if (max > 0) {
            out.put(KEY_PREFIX + name + "|" + MAX, (double) max);
          }
        });
  }

  /**
   * Replays the RPC entries of a pushed report into {@code record(method, nanos)}; other entries
   * are left alone. Malformed keys (another version's) are ignored.
   */
  void replay(Map<String, Double> report, ObjLongConsumer<String> record) {
    Map<String, long[][]> byMethod = new LinkedHashMap<>();
    Map<String, Long> maxes = new HashMap<>();
    report.forEach(
        (key, value) -> {
          if (!key.startsWith(KEY_PREFIX)) {
            return;
          }
          String rest = key.substring(KEY_PREFIX.length());
          boolean sum = rest.endsWith("|s");
          if (sum) {
            rest = rest.substring(0, rest.length() - 2);
          }
          int bar = rest.lastIndexOf('|');
          if (bar <= 0) {
            return;
          }
          String method = rest.substring(0, bar);
          String tail = rest.substring(bar + 1);
          if (tail.equals(MAX)) {
            maxes.put(method, value.longValue());
            return;
          }
          int b;
          try {
            b = Integer.parseInt(tail);
          } catch (NumberFormatException e) {
            return;
          }
          if (b < 0 || b > boundsNanos.length) {
            return;
          }
          long[][] a = byMethod.computeIfAbsent(method, k -> new long[2][boundsNanos.length + 1]);
          a[sum ? 1 : 0][b] = value.longValue();
        });
    byMethod.forEach(
        (method, a) -> {
          long max = maxes.getOrDefault(method, -1L);
          int maxBucket = max > 0 ? bucket(max) : -1;
          for (int b = 0; b < a[0].length; b++) {
            long n = a[0][b];
            long s = a[1][b];
            if (n <= 0) {
              continue;
            }
            if (b == maxBucket && max <= s) {
              record.accept(method, max);
              n--;
              s -= max;
            }
            if (n > 0) {
              long mean = Math.max(0, (long) Math.ceil((double) s / n));
              for (long i = 0; i < n; i++) {
                record.accept(method, mean);
              }
            }
          }
        });
  }

  private int bucket(long nanos) {
    for (int i = 0; i < boundsNanos.length; i++) {
      if (nanos <= boundsNanos[i]) {
        return i;
      }
    }
    return boundsNanos.length;
  }

  private static final class Method {
    final LongAdder[] counts;
    final LongAdder[] sums;
    final AtomicLong max = new AtomicLong();

    Method(int buckets) {
      counts = new LongAdder[buckets];
      sums = new LongAdder[buckets];
      for (int i = 0; i < buckets; i++) {
        counts[i] = new LongAdder();
        sums[i] = new LongAdder();
      }
    }
  }
}
