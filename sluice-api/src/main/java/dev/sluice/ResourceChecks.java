package dev.sluice;

import java.util.Map;
import java.util.Objects;

/** The argument checks that {@link TaskOptions} and {@link ActorOptions} share. */
final class ResourceChecks {
  private ResourceChecks() {}

  /** {@code numCpus} if it is a finite value >= 0. */
  static double cpus(double numCpus) {
    if (!(numCpus >= 0) || Double.isInfinite(numCpus)) {
      throw new IllegalArgumentException("numCpus must be a finite value >= 0, got " + numCpus);
    }
    return numCpus;
  }

  /**
   * An immutable copy of {@code resources} if every name is non-blank and amount finite and > 0.
   */
  static Map<String, Double> resources(Map<String, Double> resources) {
    Objects.requireNonNull(resources, "resources");
    resources.forEach(
        (k, v) -> {
          if (k == null || k.isBlank() || v == null || !(v > 0) || v.isInfinite()) {
            throw new IllegalArgumentException(
                "invalid resource "
                    + k
                    + "="
                    + v
                    + ": name must be non-blank and amount a finite value > 0");
          }
        });
    return Map.copyOf(resources);
  }
}
