package dev.sluice.runtime.owner;

import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import java.lang.ref.Cleaner;

/**
 * The local counts of {@link ReferenceCounter}: one per {@link ObjectRefImpl} instance handed out,
 * taken when the instance is made (or, for a ref carrying a streamed item's value, when it is first
 * serialized, its value then moving into the memory store) and released by a {@link Cleaner} once
 * the instance is unreachable, or at once by {@link ObjectRefImpl#release}.
 *
 * <p>Threads: any. Counts change through {@link RefTable#update} (ReferenceCounter's lock); a ref's
 * own counted/cleanable fields are guarded by the ref's monitor. The cleaner runs releases on its
 * own daemon thread.
 */
final class LocalRefs {
  private final RefTable table;
  private final MemoryStore store;
  private final ReferenceCounter session;
  private final Cleaner cleaner;

  /**
   * Local counts in {@code table}; a carried value moves into {@code store}; refs remember {@code
   * session} (null for tests of this class alone: refs are then usable in any session).
   */
  LocalRefs(RefTable table, MemoryStore store, ReferenceCounter session) {
    this.table = table;
    this.store = store;
    this.session = session;
    this.cleaner =
        Cleaner.create(Thread.ofPlatform().daemon().name("sluice-ref-cleaner").factory());
  }

  /** A new counted ref to {@code id} owned by {@code owner}. */
  <T> ObjectRefImpl<T> newRef(ObjectId id, Address owner) {
    ObjectRefImpl<T> ref = new ObjectRefImpl<>(id, owner, null, session);
    table.update(id, owner, true, e -> e.local++);
    Cleaner.Cleanable c = cleaner.register(ref, new ReleaseLocal(table, id));
    synchronized (ref) {
      ref.counted = true;
      ref.cleanable = c;
    }
    return ref;
  }

  /** A ref carrying {@code value}, not counted until {@link #count}. */
  <T> ObjectRefImpl<T> carrying(ObjectId id, Address owner, ObjectValue value) {
    return new ObjectRefImpl<>(id, owner, value, session);
  }

  /** Counts a ref made by {@link #carrying} from now on (once), storing its value. */
  void count(ObjectRefImpl<?> ref) {
    synchronized (ref) {
      ref.checkNotReleased();
      if (ref.counted) {
        return;
      }
      ref.counted = true;
      table.update(ref.id(), ref.owner(), true, e -> e.local++);
      store.put(ref.id(), ref.carriedValue());
      ref.cleanable = cleaner.register(ref, new ReleaseLocal(table, ref.id()));
    }
  }

  /** The Cleaner action of one ref; must not capture the ref itself. */
  private record ReleaseLocal(RefTable table, ObjectId id) implements Runnable {
    @Override
    public void run() {
      table.update(id, null, false, e -> e.local--);
    }
  }
}
