package dev.sluice.runtime.node;

import java.util.HashMap;
import java.util.Map;

/** Resource arithmetic of leases: what a request needs and whether it fits a budget. Stateless. */
final class Resources {
  private Resources() {}

  /** The resources request {@code r} needs (its positive amounts). */
  static Map<String, Double> need(WorkerLeaseRequest r) {
    Map<String, Double> need = new HashMap<>(r.resources());
    need.values().removeIf(v -> v <= 0);
    return need;
  }

  /** True if {@code budget} holds every amount of {@code need}. */
  static boolean fits(Map<String, Double> need, Map<String, Double> budget) {
    for (Map.Entry<String, Double> e : need.entrySet()) {
      if (e.getValue() > budget.getOrDefault(e.getKey(), 0.0) + 1e-9) {
        return false;
      }
    }
    return true;
  }
}
