package dev.sluice.runtime.control;

import java.util.function.Consumer;

/**
 * One watcher of one actor in the {@link ActorTable} ({@link ActorTable#watch}): its listener gets
 * the actor's entry, then every later one once in version order, ending with {@code DEAD}. {@link
 * #cancel} ends it earlier (an RPC stream the caller closed). Thread-safe.
 */
public final class ActorWatch {
  private final ActorWatchers owner;
  private final Consumer<ActorEntry> listener;
  private volatile boolean cancelled;

  ActorWatch(ActorWatchers owner, Consumer<ActorEntry> listener) {
    this.owner = owner;
    this.listener = listener;
  }

  /**
   * Ends the watch: no delivery starts after this returns (one under way on another thread may
   * finish). Idempotent; may be called from the listener.
   */
  public void cancel() {
    cancelled = true;
    owner.remove(this);
  }

  /** Whether {@link #cancel} was called (or the listener threw). */
  public boolean isCancelled() {
    return cancelled;
  }

  void send(ActorEntry entry) {
    if (!cancelled) {
      listener.accept(entry);
    }
  }
}
