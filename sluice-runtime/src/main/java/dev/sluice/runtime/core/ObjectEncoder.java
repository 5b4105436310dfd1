package dev.sluice.runtime.core;

import com.google.protobuf.UnsafeByteOperations;
import dev.sluice.ObjectId;
import dev.sluice.ObjectTooLargeException;
import dev.sluice.runtime.common.MessageLimit;
import dev.sluice.runtime.objectstore.SharedMemoryClient;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.serial.ObjectSerializer;
import dev.sluice.runtime.storerpc.StoreLocations;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * How a value becomes an object (DESIGN "Core worker"): a {@code byte[]} over the inline threshold
 * is written to the node's store as is, anything else is serialized and written there when over the
 * threshold, else kept inline. The same rule serves {@code put} values, task arguments, return
 * values and streamed items. Refs serialized inside a value are collected as its nested refs (and
 * also seen by any enclosing collection scope of the reference counter).
 *
 * <p>Threads: any thread; stateless apart from the store client and reference table, which are
 * thread-safe. Writing to the store may block the caller while the store makes room.
 */
final class ObjectEncoder {
  private static final CompletableFuture<Void> SEALED = CompletableFuture.completedFuture(null);

  /**
   * A value encoded as an object: inline or in the node's store, with its nested refs; readable
   * once {@code sealed} completes (at once unless encoded with {@code sealLater}).
   */
  record Encoded(
      ObjectValue value, List<ReferenceCounter.Nested> nested, CompletableFuture<Void> sealed) {
    Encoded(ObjectValue value, List<ReferenceCounter.Nested> nested) {
      this(value, nested, SEALED);
    }
  }

  private final ReferenceCounter refs;
  private final ObjectSerializer serializer;
  private final SharedMemoryClient sharedStore;
  private final int inlineThresholdBytes;
  private final int maxMessageBytes;
  private final LargeArrayCollector largeArrays;

  ObjectEncoder(
      ReferenceCounter refs,
      ObjectSerializer serializer,
      SharedMemoryClient sharedStore,
      int inlineThresholdBytes,
      int maxMessageBytes,
      LargeArrayCollector largeArrays) {
    this.refs = refs;
    this.serializer = serializer;
    this.sharedStore = sharedStore;
    this.inlineThresholdBytes = inlineThresholdBytes;
    this.maxMessageBytes = maxMessageBytes;
    this.largeArrays = largeArrays;
  }

  /** Encodes {@code value} as object {@code id}; {@code what} names it in errors. */
  Encoded encode(ObjectId id, Object value, Supplier<String> what) {
    return encode(id, value, what, false);
  }

  /**
   * As {@link #encode(ObjectId, Object, Supplier)}; with {@code sealLater} a value written to the
   * store may still be sealing when this returns (see {@link SharedMemoryClient#writeAsync}).
   */
  Encoded encode(ObjectId id, Object value, Supplier<String> what, boolean sealLater) {
    int threshold = inlineThresholdBytes;
    if (value instanceof byte[] raw && raw.length > threshold) {
      return stored(id, raw, true, List.of(), sealLater);
    }
    int outer = refs.beginCollect();
    byte[] bytes;
    List<ReferenceCounter.Nested> nested;
    try {
      bytes = serializer.serialize(value);
    } finally {
      nested = refs.endCollect(outer);
    }
    if (bytes.length > threshold) {
      return stored(id, bytes, false, nested, sealLater);
    }
    String excess = MessageLimit.describeExcess(what, bytes.length, maxMessageBytes);
    if (excess != null) {
      throw new ObjectTooLargeException(excess);
    }
    return new Encoded(
        ObjectValue.newBuilder().setData(UnsafeByteOperations.unsafeWrap(bytes)).build(), nested);
  }

  private Encoded stored(
      ObjectId id,
      byte[] bytes,
      boolean raw,
      List<ReferenceCounter.Nested> nested,
      boolean sealLater) {
    if (!sealLater) {
      Encoded e = new Encoded(StoreLocations.value(sharedStore.write(id, bytes, raw)), nested);
      largeArrays.passed(bytes.length);
      return e;
    }
    SharedMemoryClient.Written written = sharedStore.writeAsync(id, bytes, raw);
    // The array (the caller's value, or its serialized form) is garbage to us from here on.
    largeArrays.passed(bytes.length);
    return new Encoded(StoreLocations.value(written.location()), nested, written.sealed());
  }
}
