package dev.sluice.runtime.serial;

import dev.sluice.ObjectRef;

/**
 * Turns the runtime's {@link ObjectRef} implementation into bytes and back, so that refs nested
 * inside serialized values travel as refs (id plus owner) rather than as their object graph. {@link
 * ObjectSerializer} writes {@link #encode} output for every instance of {@link #refClass()} and
 * rebuilds the instance with {@link #decode} on the reading side.
 *
 * <p>Implementations must be thread-safe and must not call back into the {@link ObjectSerializer}
 * that uses them.
 */
public interface RefCodec {
  /** The compact wire form of {@code ref}; never null. */
  byte[] encode(ObjectRef<?> ref);

  /**
   * Rebuilds a ref from {@link #encode} output.
   *
   * @throws RuntimeException if {@code encoded} is corrupt; it surfaces as a {@link
   *     dev.sluice.SerializationException}
   */
  ObjectRef<?> decode(byte[] encoded);

  /** The concrete class of the refs this codec handles: a non-abstract {@link ObjectRef}. */
  Class<?> refClass();
}
