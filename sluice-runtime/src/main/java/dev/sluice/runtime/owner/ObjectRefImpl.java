package dev.sluice.runtime.owner;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.ObjectId;
import dev.sluice.ObjectRef;
import dev.sluice.SerializationException;
import dev.sluice.Sluice;
import dev.sluice.SluiceException;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectRefInfo;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import java.lang.ref.Cleaner;
import java.time.Duration;

/**
 * The runtime's {@link ObjectRef}: an object id plus the address of the object's owner, the process
 * that resolves its value and failures. Immutable and thread-safe; it resolves through whatever
 * runtime is installed in the process that holds it.
 *
 * <p>Instances handed to users are made by {@link ReferenceCounter}, which counts each one until it
 * becomes unreachable; the constructor and {@link #fromInfo} make uncounted, transient refs for the
 * runtime's own lookups only. A counted ref remembers the table (and so the session: one {@code
 * Sluice.init} of the process) that made it, and is refused in any other (see {@link
 * #checkUsableIn}): ids of an ended session may name objects of a later one. A ref to a streamed
 * item that has never left its owner process carries the item's value itself (see {@link
 * ReferenceCounter#adoptItem}); it is counted from the moment it is serialized.
 */
public final class ObjectRefImpl<T> implements ObjectRef<T> {
  private final ObjectId id;
  private final Address owner;

  /** The value of an uncounted owned ref (see {@link ReferenceCounter#adoptItem}), else null. */
  private final ObjectValue carried;

  /** The table of the session that made this ref; null for a transient ref. */
  private final ReferenceCounter session;

  /** Set once the table counts this instance. */
  @GuardedBy("this")
  boolean counted;

  /** What releases this instance's count, once counted. */
  @GuardedBy("this")
  Cleaner.Cleanable cleanable;

  /** See {@link #release()}. */
  @GuardedBy("this")
  private boolean released;

  /** A ref to {@code id} owned by the process at {@code owner}. */
  public ObjectRefImpl(ObjectId id, Address owner) {
    this(id, owner, null, null);
  }

  ObjectRefImpl(ObjectId id, Address owner, ObjectValue carried, ReferenceCounter session) {
    this.id = id;
    this.owner = owner;
    this.carried = carried;
    this.session = session;
  }

  /** The value this ref carries (an owned streamed item not yet counted by the table), or null. */
  public ObjectValue carriedValue() {
    return carried;
  }

  /** Rebuilds a ref from its wire form. */
  public static ObjectRefImpl<?> fromInfo(ObjectRefInfo info) {
    return new ObjectRefImpl<>(
        ObjectId.fromBytes(info.getObjectId().toByteArray()), info.getOwner());
  }

  /** The wire form in {@link #encode()} output. */
  public static ObjectRefInfo decodeInfo(byte[] bytes) {
    try {
      return ObjectRefInfo.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new SerializationException("corrupt ObjectRef encoding", e);
    }
  }

  /** The ref's wire form. */
  public ObjectRefInfo toInfo() {
    return ObjectRefInfo.newBuilder()
        .setObjectId(Addresses.bytes(id.toBytes()))
        .setOwner(owner)
        .build();
  }

  /** The ref's compact byte encoding, as embedded in serialized values. */
  public byte[] encode() {
    return toInfo().toByteArray();
  }

  /** The owner's address. */
  public Address owner() {
    return owner;
  }

  @Override
  public T get() {
    return Sluice.get(this);
  }

  @Override
  public void release() {
    Cleaner.Cleanable c;
    synchronized (this) {
      released = true;
      c = cleanable;
    }
    // A ref of an ended session has nothing left to release: its table is gone.
    if (c != null && (session == null || !session.isClosed())) {
      c.clean();
    }
  }

  /** Throws if this handle was {@link #release released}: it may no longer be used. */
  public synchronized void checkNotReleased() {
    if (released) {
      throw new IllegalStateException(this + " was released and can no longer be used");
    }
  }

  /**
   * Throws if this handle was {@link #release released}, or if it was made in another session than
   * the one whose table is {@code current}: a {@link SluiceException} saying that its session has
   * ended (its id may name a different object now).
   */
  public void checkUsableIn(ReferenceCounter current) {
    checkNotReleased();
    if (session != null && session != current) {
      throw new SluiceException(
          this
              + " belongs to a Sluice session that "
              + (session.isClosed()
                  ? "has ended (Sluice.shutdown() was called after it was made)"
                  : "is not the current one")
              + ": a ref from an earlier Sluice.init() cannot be "
              + "used in a later one");
    }
  }

  @Override
  public T get(Duration timeout) {
    return Sluice.get(this, timeout);
  }

  @Override
  public ObjectId id() {
    return id;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ObjectRefImpl<?> r && r.id.equals(id);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "ObjectRef(" + id + ")";
  }
}
