package dev.sluice.runtime.objectstore;

import dev.sluice.ObjectId;
import java.util.concurrent.CompletableFuture;

/**
 * The store calls of a client in the node manager's own process (an embedded driver): create, seal,
 * pin, release, delete and usage go to the {@link SharedMemoryStore} directly instead of over
 * loopback; fetches from other nodes and writer extents go to {@code remote} (the node manager's
 * RPCs). Thread-safe; never blocks on anything but the store's lock, except in {@code remote}'s
 * calls.
 */
public final class LocalStoreCalls implements StoreCalls {
  private final SharedMemoryStore store;
  private final StoreCalls remote;

  /** Calls on {@code store}, and on {@code remote} for what only the node manager does. */
  public LocalStoreCalls(SharedMemoryStore store, StoreCalls remote) {
    this.store = store;
    this.remote = remote;
  }

  /** The store called. */
  SharedMemoryStore store() {
    return store;
  }

  @Override
  public SharedMemoryStore.Created create(ObjectId id, long size) {
    return store.create(id, size);
  }

  @Override
  public void seal(ObjectId id) {
    store.seal(id);
  }

  @Override
  public PinAnswer pin(ObjectId id) {
    try {
      SharedMemoryStore.Pinned p = store.pin(id);
      return p != null ? PinAnswer.pinned(p) : PinAnswer.missing("");
    } catch (RuntimeException e) {
      return PinAnswer.missing(String.valueOf(e.getMessage()));
    }
  }

  @Override
  public void release(ObjectId id) {
    store.release(id);
  }

  @Override
  public void delete(ObjectId id) {
    store.delete(id);
  }

  @Override
  public SharedMemoryStore.Usage usage() {
    return store.usage();
  }

  @Override
  public CompletableFuture<ExtentGrant> reserveExtent(long minSize) {
    return remote.reserveExtent(minSize);
  }

  @Override
  public CompletableFuture<Void> sealInExtent(ObjectId id, ExtentClaim claim, long size) {
    return remote.sealInExtent(id, claim, size);
  }

  @Override
  public void abortInExtent(ObjectId id, ExtentClaim claim, long size) {
    remote.abortInExtent(id, claim, size);
  }

  @Override
  public void releaseExtents() {
    remote.releaseExtents();
  }

  @Override
  public void fetch(ObjectId id, StoreLocation where) {
    remote.fetch(id, where);
  }

  @Override
  public void prefetch(ObjectId id, StoreLocation where) {
    remote.prefetch(id, where);
  }
}
