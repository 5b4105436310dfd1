package dev.sluice.runtime.dashboard;

import dev.sluice.ObjectId;
import dev.sluice.StreamState;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tells which streams are held back by backpressure right now: those whose total stalled time grew
 * since the previous sample and that still run. Forgets streams no longer listed. Not thread-safe:
 * the dashboard's sampler thread owns it.
 */
final class StallTracker {
  private final Map<ObjectId, Double> lastStalledSeconds = new HashMap<>();

  /** The ids of the {@code streams} stalled since the previous call. */
  Set<ObjectId> update(List<StreamState> streams) {
    Set<ObjectId> stalled = new HashSet<>();
    Set<ObjectId> seen = new HashSet<>();
    for (StreamState s : streams) {
      seen.add(s.streamId());
      Double before = lastStalledSeconds.put(s.streamId(), s.stalledSeconds());
      if (before != null && s.stalledSeconds() > before && s.state().equals("RUNNING")) {
        stalled.add(s.streamId());
      }
    }
    lastStalledSeconds.keySet().retainAll(seen);
    return stalled;
  }
}
