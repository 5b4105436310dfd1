package dev.sluice.runtime.objectstore;

import dev.sluice.ObjectBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;

/**
 * An {@link ObjectBuffer} over a pinned object in the node's shared-memory store: a read-only view
 * of the object's range whose lifetime is an arena of its own, so that after closing the buffer any
 * access fails instead of reading reused memory. Closing (or the garbage collector, for a buffer
 * dropped unclosed) also ends the pin.
 */
final class MappedObjectBuffer implements ObjectBuffer {
  private static final Cleaner CLEANER =
      Cleaner.create(Thread.ofPlatform().daemon().name("sluice-buffer-cleaner").factory());

  private final MemorySegment segment;
  private final Cleaner.Cleanable cleanable;

  MappedObjectBuffer(MemorySegment segment, Arena arena, Runnable unpin) {
    this.segment = segment;
    this.cleanable = CLEANER.register(this, new Release(arena, unpin));
  }

  /** Ends the view and the pin; must not capture the buffer. */
  private record Release(Arena arena, Runnable unpin) implements Runnable {
    @Override
    public void run() {
      try {
        arena.close();
      } catch (IllegalStateException e) {
        // already ended by the client's close
      } finally {
        unpin.run();
      }
    }
  }

  @Override
  public long size() {
    return segment.byteSize();
  }

  @Override
  public MemorySegment segment() {
    return segment;
  }

  @Override
  public ByteBuffer asByteBuffer() {
    return segment.asByteBuffer();
  }

  @Override
  public void close() {
    cleanable.clean();
  }
}
