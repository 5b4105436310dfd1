package dev.sluice.runtime.core;

import dev.sluice.ObjectBuffer;
import dev.sluice.ObjectId;
import dev.sluice.ObjectLostException;
import dev.sluice.ObjectRef;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.objectstore.HeapObjectBuffer;
import dev.sluice.runtime.objectstore.SharedMemoryClient;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.owner.TaskManager;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import dev.sluice.runtime.serial.ObjectSerializer;
import dev.sluice.runtime.storerpc.StoreLocations;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Reads objects for {@code get} and {@code getBuffer}: waits for the value (through the {@link
 * Waiter}), decodes it (inline bytes, or read from this node's shared-memory store, pinned while
 * read), turns a stored error into its exception, and, when an owned object was lost, waits for its
 * task to rebuild it (DESIGN "Failures"). Refs nested in a value are borrowed from the moment it is
 * decoded; {@code get} returns once those borrows are registered.
 *
 * <p>Threads: user threads and task threads, which block here; nothing is kept between calls.
 */
final class ObjectResolver {
  /** How long a reader waits for the borrows of nested refs to be registered with owners. */
  static final Duration BORROW_REGISTRATION_TIMEOUT = Duration.ofSeconds(30);

  private final ObjectFutures futures;
  private final Waiter waiter;
  private final RefGuard guard;
  private final TaskManager taskManager;
  private final ReferenceCounter refs;
  private final SharedMemoryClient sharedStore;
  private final ObjectSerializer serializer;
  private final List<String> serializationAllowList;
  private final LargeArrayCollector largeArrays;

  ObjectResolver(
      ObjectFutures futures,
      Waiter waiter,
      RefGuard guard,
      TaskManager taskManager,
      ReferenceCounter refs,
      SharedMemoryClient sharedStore,
      ObjectSerializer serializer,
      List<String> serializationAllowList,
      LargeArrayCollector largeArrays) {
    this.futures = futures;
    this.waiter = waiter;
    this.guard = guard;
    this.taskManager = taskManager;
    this.refs = refs;
    this.sharedStore = sharedStore;
    this.serializer = serializer;
    this.serializationAllowList = serializationAllowList;
    this.largeArrays = largeArrays;
  }

  /** The value of {@code ref}; {@code timeout} null waits forever. */
  <T> T get(ObjectRef<T> ref, Duration timeout) {
    ObjectValue v = await(ref, timeout);
    T value;
    while (true) {
      try {
        value = decode(ref.id(), v);
        break;
      } catch (ObjectLostException lost) {
        v = rebuild(ref, lost, timeout);
      }
    }
    // Refs nested in the value are borrowed from now on: register before the ref that keeps
    // their outer object (and so them) alive may go.
    refs.awaitRegistrations(BORROW_REGISTRATION_TIMEOUT);
    Reference.reachabilityFence(ref);
    return value;
  }

  /** The bytes of {@code ref}: mapped from the store if stored raw, else copied to the heap. */
  ObjectBuffer getBuffer(ObjectRef<byte[]> ref, Duration timeout) {
    ObjectValue v = await(ref, timeout);
    try {
      while (v.hasShared() && v.getShared().getRawBytes()) {
        try {
          return sharedStore.openBuffer(ref.id(), StoreLocations.of(v.getShared()));
        } catch (ObjectLostException lost) {
          v = rebuild(ref, lost, timeout);
        }
      }
      Object value = decode(ref.id(), v);
      if (value instanceof byte[] bytes) {
        return new HeapObjectBuffer(bytes);
      }
      throw new IllegalArgumentException(
          ref
              + " holds "
              + (value == null ? "null" : "a " + value.getClass().getName())
              + ", not a byte[]: use get()");
    } finally {
      Reference.reachabilityFence(ref);
    }
  }

  /** Waits for the value (or error) of {@code ref}; {@code timeout} null waits forever. */
  private ObjectValue await(ObjectRef<?> ref, Duration timeout) {
    return waiter.waitFor(futures.future(ref), ref, timeout);
  }

  /**
   * The object of {@code ref} was lost: if this process owns it and its task can run again, waits
   * for the rebuilt value (DESIGN "Failures"); otherwise rethrows, saying why it cannot be rebuilt.
   */
  private ObjectValue rebuild(ObjectRef<?> ref, ObjectLostException lost, Duration timeout) {
    ObjectRefImpl<?> r = guard.impl(ref);
    if (!guard.isOwnedHere(r)) {
      throw lost;
    }
    CompletableFuture<ObjectValue> rebuilt = taskManager.reconstruct(r.id());
    if (rebuilt == null) {
      throw new ObjectLostException(
          lost.getMessage()
              + "; it cannot be rebuilt ("
              + (r.id().isPut()
                  ? "a put object has no task to run again"
                  : "its task has no retries left or is no longer known")
              + ")",
          lost);
    }
    return waiter.waitFor(rebuilt, ref, timeout);
  }

  @SuppressWarnings("unchecked")
  private <T> T decode(ObjectId id, ObjectValue v) {
    if (v.hasError()) {
      throw Errors.toException(v.getError(), serializationAllowList);
    }
    if (v.hasShared()) {
      return (T) readShared(id, v.getShared());
    }
    return (T) serializer.deserialize(v.getData().asReadOnlyByteBuffer());
  }

  /**
   * Reads an object from this node's shared-memory store (fetched there first if it is in another
   * node's), pinned while it is read.
   */
  private Object readShared(ObjectId id, SharedMemoryLocation where) {
    MemorySegment bytes = sharedStore.pin(id, StoreLocations.of(where));
    try {
      // A raw byte[] is copied once, straight from the mapping into the array returned.
      return where.getRawBytes()
          ? bytes.toArray(ValueLayout.JAVA_BYTE)
          : serializer.deserialize(bytes.asByteBuffer());
    } finally {
      sharedStore.release(id);
      largeArrays.passed(bytes.byteSize());
    }
  }
}
