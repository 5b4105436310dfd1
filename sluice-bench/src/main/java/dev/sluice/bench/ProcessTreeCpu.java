package dev.sluice.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * CPU time used so far by this JVM and every process it started, directly or not (a Sluice driver's
 * embedded cluster: its worker JVMs): the figure behind a part's CPU per operation ({@link
 * RoundPart#cpuSeconds}). Unlike a rate, CPU time spent per operation hardly moves when other
 * processes compete for the machine, so it resolves differences smaller than a loaded machine's
 * spread of rates.
 *
 * <p>A descendant that exits between two readings takes its CPU time with it; the workers of a
 * cluster under measurement live as long as it does. Stateless; safe from any thread.
 */
final class ProcessTreeCpu {
  private ProcessTreeCpu() {}

  /** Nanoseconds of CPU (user and system) of this process and its live descendants. */
  static long nanos() {
    long own =
        ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    long children =
        ProcessHandle.current()
            .descendants()
            .mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L))
            .sum();
    return Math.max(0, own) + children;
  }
}
