package dev.sluice.runtime.control;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The control service's record of finished jobs (their driver shut down, exited or died), in the
 * order they finished. Nodes learn of them through heartbeats: each reports how many it has seen
 * and gets the rest ({@link #after}), then frees their objects (Ray: objects fate-share with their
 * owner). Thread-safe: every method is {@code synchronized}.
 */
final class FinishedJobs {
  @GuardedBy("this")
  private final List<ByteString> inOrder = new ArrayList<>();

  @GuardedBy("this")
  private final Set<ByteString> finished = new HashSet<>();

  /** Records {@code job} as finished; false if it already was. */
  synchronized boolean finish(ByteString job) {
    if (!finished.add(job)) {
      return false;
    }
    inOrder.add(job);
    return true;
  }

  /** How many jobs have finished. */
  synchronized long count() {
    return inOrder.size();
  }

  /** The jobs that finished after the first {@code seen}, in order. */
  synchronized List<ByteString> after(long seen) {
    int from = (int) Math.max(0, Math.min(seen, inOrder.size()));
    return List.copyOf(inOrder.subList(from, inOrder.size()));
  }
}
