package dev.sluice.runtime.node;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The garbage collector of the JVMs the runtime launches (workers, node daemons): G1, unless the
 * user's JVM options name a collector themselves, in which case theirs is the only one (a JVM
 * refuses to start with two).
 *
 * <p>Why G1 (DESIGN "Object store", large items): a producer that allocates a fresh 64 MiB array
 * per item under the Parallel collector gets each array placed straight in the old generation (it
 * is over half of eden), which grows rather than collects until the heap nears its maximum: every
 * item then lands on pages the process never touched (16,384 page faults per item) and the worker's
 * resident memory climbs to gigabytes. G1 places such an array in humongous regions that a young
 * collection frees when it is dead, and usually reuses them warm. Not always: while G1 waits for
 * the young collection that precedes mixed ones (after a marking cycle), humongous allocations
 * expand the heap instead of collecting, until eden fills.
 *
 * <p>Stateless; thread-safe.
 */
final class JvmCollector {
  /** The collector chosen when the user names none. */
  static final String DEFAULT = "-XX:+UseG1GC";

  /** An option that selects or deselects a collector: {@code -XX:+UseParallelGC}, etc. */
  private static final Pattern COLLECTOR_FLAG = Pattern.compile("-XX:[+-]Use\\w*GC");

  private JvmCollector() {}

  /** The options selecting this runtime's collector, given the user's {@code userOptions}. */
  static List<String> options(List<String> userOptions) {
    return namesCollector(userOptions) ? List.of() : List.of(DEFAULT);
  }

  /** {@code runtimeOptions} followed by the collector's options for {@code userOptions}. */
  static List<String> with(List<String> runtimeOptions, List<String> userOptions) {
    List<String> all = new ArrayList<>(runtimeOptions);
    all.addAll(options(userOptions));
    return List.copyOf(all);
  }

  /** True if one of {@code options} selects or deselects a collector. */
  static boolean namesCollector(List<String> options) {
    return options.stream().anyMatch(o -> COLLECTOR_FLAG.matcher(o).matches());
  }
}
