package dev.sluice.runtime.owner;

import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-process store of small objects: values owned by this process (inline task returns and
 * {@code put}s) and copies of borrowed values fetched from their owners. Each object is a future
 * that completes with its value or its error, so waiting and storing need no extra signalling.
 *
 * <p>Thread-safe. Futures complete on the thread that stores the value (often a transport thread):
 * dependent actions must be short and non-blocking.
 */
public final class MemoryStore {
  private final ConcurrentHashMap<ObjectId, CompletableFuture<ObjectValue>> objects =
      new ConcurrentHashMap<>();

  /** Declares an object whose value will arrive later; idempotent. */
  public CompletableFuture<ObjectValue> expect(ObjectId id) {
    return objects.computeIfAbsent(id, k -> new CompletableFuture<>());
  }

  /** Stores a value (or error); the first value stored for an id wins. */
  public void put(ObjectId id, ObjectValue value) {
    // Usually expected already (a task's returns are, from submission): a plain read then.
    CompletableFuture<ObjectValue> f = objects.get(id);
    (f != null ? f : expect(id)).complete(value);
  }

  /**
   * Replaces an object's value: a rebuilt value taking a lost one's place. A future that was still
   * pending completes with it; later lookups see the new value.
   */
  public void replace(ObjectId id, ObjectValue value) {
    CompletableFuture<ObjectValue> old = objects.put(id, CompletableFuture.completedFuture(value));
    if (old != null) {
      old.complete(value);
    }
  }

  /** The future of a known object, or null if this store has never heard of it. */
  public CompletableFuture<ObjectValue> find(ObjectId id) {
    return objects.get(id);
  }

  /** Forgets an object; returns its future, or null if it was not here. */
  public CompletableFuture<ObjectValue> remove(ObjectId id) {
    return objects.remove(id);
  }

  /** Number of objects held, ready or not. */
  public int size() {
    return objects.size();
  }
}
