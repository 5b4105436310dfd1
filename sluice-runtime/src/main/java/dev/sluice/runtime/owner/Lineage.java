package dev.sluice.runtime.owner;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.sluice.TaskId;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The specs of finished tasks whose outputs live in shared memory, kept so that a lost output can
 * be rebuilt by running its task again (Ray's lineage). Bounded by the total size of the specs,
 * like Ray's lineage cap: the least recently used entries go first, and an output whose lineage was
 * evicted cannot be rebuilt ({@code ObjectLostException}).
 *
 * <p>Thread-safe: all methods synchronize on this object.
 */
final class Lineage {
  /** A finished task's spec and how many more times it may run to rebuild its outputs. */
  record Entry(TaskSpec spec, int rebuildsLeft) {}

  private final long maxBytes;

  @GuardedBy("this")
  private final LinkedHashMap<TaskId, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

  @GuardedBy("this")
  private long bytes;

  Lineage(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  synchronized void put(TaskId id, TaskSpec spec, int rebuildsLeft) {
    Entry old = entries.put(id, new Entry(spec, rebuildsLeft));
    if (old != null) {
      bytes -= old.spec().getSerializedSize();
    }
    bytes += spec.getSerializedSize();
    for (Iterator<Map.Entry<TaskId, Entry>> it = entries.entrySet().iterator();
        bytes > maxBytes && it.hasNext(); ) {
      bytes -= it.next().getValue().spec().getSerializedSize();
      it.remove();
    }
  }

  synchronized Entry get(TaskId id) {
    return entries.get(id);
  }

  synchronized int size() {
    return entries.size();
  }
}
