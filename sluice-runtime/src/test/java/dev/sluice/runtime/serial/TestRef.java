package dev.sluice.runtime.serial;

import dev.sluice.ObjectId;
import dev.sluice.ObjectRef;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/** Test-only ObjectRef: an id plus an owner name, with a codec that counts its calls. */
final class TestRef implements ObjectRef<Object> {
  private final ObjectId id;
  private final String owner;

  /** Set only by {@link Codec#decode}, to prove the codec rebuilt the instance. */
  final boolean decoded;

  /** Not meant to travel: if Fory serialized the fields, this would fail the value. */
  final transient Thread localOnly = Thread.currentThread();

  TestRef(ObjectId id, String owner) {
    this(id, owner, false);
  }

  private TestRef(ObjectId id, String owner, boolean decoded) {
    this.id = id;
    this.owner = owner;
    this.decoded = decoded;
  }

  String owner() {
    return owner;
  }

  @Override
  public Object get() {
    throw new UnsupportedOperationException("test ref");
  }

  @Override
  public void release() {}

  @Override
  public Object get(Duration timeout) {
    throw new UnsupportedOperationException("test ref");
  }

  @Override
  public ObjectId id() {
    return id;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TestRef r && r.id.equals(id) && r.owner.equals(owner);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, owner);
  }

  @Override
  public String toString() {
    return "TestRef(" + id + "@" + owner + ")";
  }

  /** Encodes as the 20 id bytes followed by the owner in UTF-8. */
  static class Codec implements RefCodec {
    final AtomicInteger encodes = new AtomicInteger();
    final AtomicInteger decodes = new AtomicInteger();

    @Override
    public byte[] encode(ObjectRef<?> ref) {
      encodes.incrementAndGet();
      TestRef r = (TestRef) ref;
      byte[] owner = r.owner.getBytes(StandardCharsets.UTF_8);
      return ByteBuffer.allocate(ObjectId.LENGTH + owner.length)
          .put(r.id.toBytes())
          .put(owner)
          .array();
    }

    @Override
    public ObjectRef<?> decode(byte[] encoded) {
      decodes.incrementAndGet();
      if (encoded.length < ObjectId.LENGTH) {
        throw new IllegalArgumentException("corrupt ref: " + encoded.length + " bytes");
      }
      ObjectId id = ObjectId.fromBytes(Arrays.copyOf(encoded, ObjectId.LENGTH));
      String owner =
          new String(
              encoded, ObjectId.LENGTH, encoded.length - ObjectId.LENGTH, StandardCharsets.UTF_8);
      return new TestRef(id, owner, true);
    }

    @Override
    public Class<?> refClass() {
      return TestRef.class;
    }
  }
}
