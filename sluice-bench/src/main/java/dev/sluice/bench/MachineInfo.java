package dev.sluice.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where the numbers came from: cores, CPU, JDK and OS, plus this JVM's options (some change
 * transport code paths, e.g. {@code --sun-misc-unsafe-memory-access=allow} re-enables Netty's
 * Unsafe path on JDK 25).
 */
final class MachineInfo {
  private MachineInfo() {}

  static String describe() {
    String cpu = cpuModel().map(m -> " (" + m + ")").orElse("");
    return "machine: "
        + Runtime.getRuntime().availableProcessors()
        + " cores"
        + cpu
        + ", JDK "
        + Runtime.version()
        + " ("
        + System.getProperty("java.vm.vendor", "?")
        + " "
        + System.getProperty("java.vm.name", "?")
        + ")"
        + ", "
        + System.getProperty("os.name")
        + " "
        + System.getProperty("os.version")
        + " "
        + System.getProperty("os.arch")
        + ", max heap "
        + (Runtime.getRuntime().maxMemory() >> 20)
        + " MiB";
  }

  static String jvmOptions() {
    var args = ManagementFactory.getRuntimeMXBean().getInputArguments();
    return "driver JVM options: " + (args.isEmpty() ? "(none)" : String.join(" ", args));
  }

  /**
   * "load average 1.52 1.10 0.95 (1, 5, 15 min)" from {@code /proc/loadavg}, or empty where there
   * is none: what else ran on the machine around a run.
   */
  static Optional<String> loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return Optional.of("load average " + f[0] + " " + f[1] + " " + f[2] + " (1, 5, 15 min)");
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static Optional<String> cpuModel() {
    Path cpuinfo = Path.of("/proc/cpuinfo");
    if (!Files.isReadable(cpuinfo)) {
      return Optional.empty();
    }
    try (Stream<String> lines = Files.lines(cpuinfo)) {
      return lines
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim().replaceAll("\\s+", " "))
          .findFirst();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
