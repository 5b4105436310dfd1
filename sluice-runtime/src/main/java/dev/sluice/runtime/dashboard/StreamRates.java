package dev.sluice.runtime.dashboard;

import dev.sluice.runtime.dashboard.ClusterView.StreamRow;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Turns the cumulative counts of each stream into rates: items per second produced and consumed
 * over the last {@link #WINDOW_NANOS}, and whether the generator is stalled on backpressure now
 * (its stalled time grew since the previous sample). Keeps a few samples per stream and forgets
 * streams that are no longer reported. Not thread-safe: the dashboard's sampler thread owns it.
 */
final class StreamRates {
  /** Rates are averaged over this long, so that a bursty stream reads steadily. */
  static final long WINDOW_NANOS = 3_000_000_000L;

  private record Sample(long nanos, long produced, long consumed, long stalledMillis) {}

  /** A stream's live figures. */
  record Live(double producedPerSecond, double consumedPerSecond, boolean stalledNow) {}

  private final Map<String, ArrayDeque<Sample>> samples = new HashMap<>();

  /** Records the counts of {@code streams} as of {@code nowNanos} and returns their rates by id. */
  Map<String, Live> update(Collection<StreamRow> streams, long nowNanos) {
    Map<String, Live> out = new HashMap<>();
    Set<String> seen = new HashSet<>();
    for (StreamRow s : streams) {
      seen.add(s.streamId());
      ArrayDeque<Sample> q = samples.computeIfAbsent(s.streamId(), k -> new ArrayDeque<>());
      Sample previous = q.peekLast();
      q.addLast(new Sample(nowNanos, s.produced(), s.consumed(), s.stalledMillis()));
      while (q.size() > 2 && nowNanos - q.peekFirst().nanos() > WINDOW_NANOS) {
        q.removeFirst();
      }
      Sample first = q.peekFirst();
      double seconds = (nowNanos - first.nanos()) / 1e9;
      double produced = seconds > 0 ? (s.produced() - first.produced()) / seconds : 0;
      double consumed = seconds > 0 ? (s.consumed() - first.consumed()) / seconds : 0;
      boolean stalled =
          !s.finished() && previous != null && s.stalledMillis() > previous.stalledMillis();
      out.put(s.streamId(), new Live(produced, consumed, stalled));
    }
    samples.keySet().retainAll(seen);
    return out;
  }
}
