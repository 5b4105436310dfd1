package dev.sluice.runtime.objectstore;

import dev.sluice.ObjectBuffer;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * An {@link ObjectBuffer} over a small object's bytes on the heap (objects under the inline
 * threshold never enter shared memory). Access after {@link #close()} fails, as for mapped buffers,
 * so code written against one kind works with the other.
 */
public final class HeapObjectBuffer implements ObjectBuffer {
  private final byte[] bytes;
  private volatile boolean closed;

  /** A view of {@code bytes}, which the caller hands over and no longer changes. */
  public HeapObjectBuffer(byte[] bytes) {
    this.bytes = bytes;
  }

  @Override
  public long size() {
    return bytes.length;
  }

  @Override
  public MemorySegment segment() {
    checkOpen();
    return MemorySegment.ofArray(bytes).asReadOnly();
  }

  @Override
  public ByteBuffer asByteBuffer() {
    checkOpen();
    return ByteBuffer.wrap(bytes).asReadOnlyBuffer();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the ObjectBuffer is closed");
    }
  }

  @Override
  public void close() {
    closed = true;
  }
}
