package dev.sluice;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A read-only view of a {@code byte[]} object's bytes without copying them onto the heap, from
 * {@link Sluice#getBuffer(ObjectRef)}. An object in the node's shared-memory store is mapped
 * straight from it; a small inline object is viewed on the heap.
 *
 * <p><b>Lifetime.</b> The view stays valid, and the object stays in shared memory (it is neither
 * spilled nor freed, even if every ref to it is dropped), until {@link #close()}. After close, any
 * access through {@link #segment()} or {@link #asByteBuffer()} throws {@link IllegalStateException}
 * rather than reading memory that may have been reused. A buffer that becomes unreachable without
 * {@code close()} is released by the garbage collector, but holding shared memory until then is
 * wasteful: use try-with-resources. Thread-safe; closing while another thread reads makes that read
 * fail.
 */
public interface ObjectBuffer extends AutoCloseable {
  /** The object's size in bytes. */
  long size();

  /** The bytes as a read-only segment. */
  MemorySegment segment();

  /** The bytes as a read-only buffer (position 0, limit {@link #size()}). */
  ByteBuffer asByteBuffer();

  /** Releases the view and the object's pin. Idempotent. */
  @Override
  void close();
}
