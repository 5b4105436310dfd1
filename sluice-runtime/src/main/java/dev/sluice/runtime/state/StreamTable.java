package dev.sluice.runtime.state;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.StreamCounters;
import dev.sluice.runtime.rpc.proto.StreamRow;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Predicate;

/**
 * The control service's table of streams: each stream's latest counters as its owner reported them,
 * and its rates (items produced and consumed per second) computed from its two latest reports. A
 * stream that ended is kept until more than {@code maxEnded} ended streams are kept, then the
 * oldest goes. A running stream whose owner the control service knows to be dead (its node died,
 * its job ended) ends as {@value #OWNER_DIED}: no owner will report it again.
 *
 * <p>Thread-safe: every method holds the table's monitor.
 */
final class StreamTable {
  /** The state of a stream whose owner died while it ran. */
  static final String OWNER_DIED = "OWNER_DIED";

  private static final class Entry {
    StreamCounters latest;
    double producedPerSecond;
    double consumedPerSecond;
  }

  private final int maxEnded;
  private final LinkedHashMap<ByteString, Entry> streams = new LinkedHashMap<>();

  StreamTable(int maxEnded) {
    this.maxEnded = maxEnded;
  }

  /** Takes one report of a stream's counters. */
  synchronized void update(StreamCounters c) {
    Entry e = streams.computeIfAbsent(c.getStreamId(), k -> new Entry());
    StreamCounters prev = e.latest;
    if (prev != null && c.getTimeMicros() > prev.getTimeMicros()) {
      double seconds = (c.getTimeMicros() - prev.getTimeMicros()) / 1e6;
      e.producedPerSecond = Math.max(0, c.getProduced() - prev.getProduced()) / seconds;
      e.consumedPerSecond = Math.max(0, c.getConsumed() - prev.getConsumed()) / seconds;
    } else if (prev != null && c.getTimeMicros() < prev.getTimeMicros()) {
      return; // an older report arriving late
    }
    if (prev != null && OWNER_DIED.equals(prev.getState()) && "RUNNING".equals(c.getState())) {
      return; // a last report its dead owner sent before dying
    }
    e.latest = c;
    if (!"RUNNING".equals(c.getState())) {
      e.producedPerSecond = 0;
      e.consumedPerSecond = 0;
      evictEnded();
    }
  }

  /** The owner of each running stream {@code owned} accepts died: those end as OWNER_DIED. */
  synchronized void ownerDied(Predicate<StreamCounters> owned) {
    boolean changed = false;
    for (Entry e : streams.values()) {
      if (running(e) && owned.test(e.latest)) {
        e.latest = e.latest.toBuilder().setState(OWNER_DIED).build();
        e.producedPerSecond = 0;
        e.consumedPerSecond = 0;
        changed = true;
      }
    }
    if (changed) {
      evictEnded();
    }
  }

  private void evictEnded() {
    long ended = streams.values().stream().filter(x -> !running(x)).count();
    for (Iterator<Entry> it = streams.values().iterator(); it.hasNext() && ended > maxEnded; ) {
      if (!running(it.next())) {
        it.remove();
        ended--;
      }
    }
  }

  private static boolean running(Entry e) {
    return "RUNNING".equals(e.latest.getState());
  }

  /** Every stream kept, in the order first reported. */
  synchronized List<StreamRow> rows() {
    List<StreamRow> out = new ArrayList<>(streams.size());
    for (Entry e : streams.values()) {
      out.add(
          StreamRow.newBuilder()
              .setCounters(e.latest)
              .setProducedPerSecond(e.producedPerSecond)
              .setConsumedPerSecond(e.consumedPerSecond)
              .build());
    }
    return out;
  }
}
