package dev.sluice.runtime.objectstore;

import java.util.concurrent.TimeUnit;

/**
 * When the store asks the node's processes to collect garbage. Unreachable refs hold objects until
 * the collector finds them, so an object that does not fit first gets a retry after a request
 * ({@code shortOfRoom}), and spilling starts only if the grace period passes without enough being
 * freed; taking cold pages (past the prefaulted region) sends a hint, at most every {@link
 * #HINT_INTERVAL_NANOS}, so that freed low ranges are reused instead.
 *
 * <p>Threads: not thread-safe; guarded by the store's lock ({@link SharedMemoryStore}'s monitor).
 * The callback must not block.
 */
final class GcRequests {
  /** How long creates wait for a requested garbage collection to free objects before spilling. */
  static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(300);

  /** Least time between two hints sent because cold pages are taken. */
  static final long HINT_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private final SharedMemoryStore.GarbageCollection requestGc;
  private boolean requested;
  private long requestedAt;
  private long lastHint;

  GcRequests(SharedMemoryStore.GarbageCollection requestGc) {
    this.requestGc = requestGc;
  }

  /**
   * An object does not fit: true if its create should be retried, because a collection was
   * requested just now (none recently: the last is older than ten grace periods) or is still within
   * its grace period; false when the grace period has passed and room must be made by spilling.
   */
  boolean retryAfterCollection() {
    long now = System.nanoTime();
    if (!requested || now - requestedAt > 10 * GRACE_NANOS) {
      requested = true;
      requestedAt = now;
      requestGc.request(true);
      return true;
    }
    return now - requestedAt < GRACE_NANOS;
  }

  /** A range past the warm pages was taken: hints a collection, at most once per interval. */
  void coldPagesTaken() {
    long now = System.nanoTime();
    if (now - lastHint > HINT_INTERVAL_NANOS) {
      lastHint = now;
      requestGc.request(false);
    }
  }
}
