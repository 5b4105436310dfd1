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
 * expand the heap instead of collecting, until eden fills. Hence {@link #EXPLICIT_GC_CONCURRENT}:
 * {@code System.gc()} is then a concurrent start (a young pause, which frees dead humongous arrays
 * and ends that wait) rather than a full collection, so that the runtime can ask for one after
 * every few large arrays ({@code core.LargeArrayCollector}) and when the store asks the node's
 * processes to collect, without stopping a worker for a full collection of its heap. And {@link
 * #HEAP_FLOOR}: each marking cycle ends with G1 shrinking the heap to about three times its live
 * data (56 MiB in an idle worker), uncommitting the regions the last arrays used, so that the next
 * ones are placed on fresh pages again; with a floor of twice the collector's budget between two
 * such collections the regions stay committed and warm. Committed pages that were never written
 * cost no memory, so the floor costs only what a worker has used. It is left out when the user's
 * options size the heap themselves (a floor above their maximum would stop the JVM at start).
 *
 * <p>Stateless; thread-safe.
 */
final class JvmCollector {
  /** The collector chosen when the user names none. */
  static final String DEFAULT = "-XX:+UseG1GC";

  /** With {@link #DEFAULT}: {@code System.gc()} starts a concurrent cycle. */
  static final String EXPLICIT_GC_CONCURRENT = "-XX:+ExplicitGCInvokesConcurrent";

  /**
   * With {@link #DEFAULT}: the heap is not shrunk below twice {@code
   * core.LargeArrayCollector.MAX_BUDGET_BYTES}.
   */
  static final String HEAP_FLOOR = "-XX:MinHeapSize=512m";

  /** An option that sets a bound of the heap's size. */
  private static final Pattern HEAP_SIZE_FLAG =
      Pattern.compile("-Xm[sx].*|-XX:(Min|Initial|Max)HeapSize=.*");

  /** An option that selects or deselects a collector: {@code -XX:+UseParallelGC}, etc. */
  private static final Pattern COLLECTOR_FLAG = Pattern.compile("-XX:[+-]Use\\w*GC");

  private JvmCollector() {}

  /** The options selecting this runtime's collector, given the user's {@code userOptions}. */
  static List<String> options(List<String> userOptions) {
    if (namesCollector(userOptions)) {
      return List.of();
    }
    // The user's options follow the runtime's, so a user's -XX:-ExplicitGCInvokesConcurrent wins.
    return sizesHeap(userOptions)
        ? List.of(DEFAULT, EXPLICIT_GC_CONCURRENT)
        : List.of(DEFAULT, EXPLICIT_GC_CONCURRENT, HEAP_FLOOR);
  }

  /** {@code runtimeOptions} followed by the collector's options for {@code userOptions}. */
  static List<String> with(List<String> runtimeOptions, List<String> userOptions) {
    List<String> all = new ArrayList<>(runtimeOptions);
    all.addAll(options(userOptions));
    return List.copyOf(all);
  }

  /** True if one of {@code options} bounds the heap's size. */
  static boolean sizesHeap(List<String> options) {
    return options.stream().anyMatch(o -> HEAP_SIZE_FLAG.matcher(o).matches());
  }

  /** True if one of {@code options} selects or deselects a collector. */
  static boolean namesCollector(List<String> options) {
    return options.stream().anyMatch(o -> COLLECTOR_FLAG.matcher(o).matches());
  }
}
