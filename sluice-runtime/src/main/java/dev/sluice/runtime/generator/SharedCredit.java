package dev.sluice.runtime.generator;

import dev.sluice.runtime.rpc.proto.SharedCreditSlot;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.function.BooleanSupplier;

/**
 * Shared credit, the same-node credit path of a streaming generator with backpressure (DESIGN
 * "Shared credit"): the owner publishes each stream's cumulative consumed count in a slot of a
 * small file it maps, and a producer on the same node maps the file too and reads its credit there,
 * so the common path of a pipelined stream needs no reply and no thread wake-up per batch. The
 * rules:
 *
 * <ul>
 *   <li><b>The slot is offered only on one node</b>: the reply to a report starting at index 0
 *       carries the slot ({@link SharedCreditSlot}) only when the report's worker is on the owner's
 *       node and the stream has a window (backpressure on).
 *   <li><b>The count is the credit rule's count</b>: the consumer writes the stream's cursor (the
 *       same cumulative count a reply carries) with a release store on each consume; the producer
 *       reads it with acquire loads and takes the larger of it and its replies' count, so {@link
 *       CreditBatching}'s window holds exactly as with replies alone.
 *   <li><b>A slot is this stream's only while it carries the stream's tag</b>: tags are never
 *       reused within a file; the owner clears the tag before it frees the slot (the stream ended,
 *       failed or was deleted), so a producer that outlived its stream reads "unavailable", never
 *       another stream's count ({@link #consumed}).
 *   <li><b>Replies stay the rule</b>: a producer spins for credit at most {@link #SPIN_NANOS} and
 *       then waits for the owner's (held) reply as before, which also releases a producer whose
 *       stream is gone; reports are answered exactly as without shared credit.
 * </ul>
 *
 * <p>Layout: {@link #SLOTS} slots of {@link #SLOT_BYTES} bytes (a cache line each, so two streams
 * never share one), the tag at offset 0, the consumed count at offset 8.
 *
 * <p>An instance is the producer's read-only view of one stream's slot ({@link #open}); the
 * process's mappings are shared by path. Thread-safe: reads are plain acquire loads.
 */
public final class SharedCredit {

  /**
   * Switch: {@code -Dsluice.generator.sharedCredit=false} in an owner offers no slot, so its
   * streams take the replies alone (for comparison, and the fallback's tests).
   */
  public static final String ENABLED_PROPERTY = "sluice.generator.sharedCredit";

  /** Slots in one owner's file; streams past them use replies alone. */
  public static final int SLOTS = 4096;

  /** Bytes of one slot: a cache line. */
  public static final int SLOT_BYTES = 64;

  /** Offset of the tag in a slot. */
  public static final long TAG = 0;

  /** Offset of the consumed count in a slot. */
  public static final long CONSUMED = 8;

  /** Bytes of one owner's file. */
  public static final long FILE_BYTES = (long) SLOTS * SLOT_BYTES;

  /**
   * Longest a producer out of credit spins, reading its slot, before it waits for a reply: a few
   * consumer steps, far below a thread wake-up's cost on a loaded machine, and short enough that a
   * slow consumer costs the producer's core little.
   */
  public static final long SPIN_NANOS = 20_000;

  /** Reads and writes a slot's longs (the owner's side too: {@code SharedCreditSlots}). */
  public static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

  /** The files this process mapped to read credit. */
  private static final OwnerFiles FILES = new OwnerFiles("shared credit", FILE_BYTES, false);

  private final MemorySegment file;
  private final long offset;
  private final long tag;

  SharedCredit(MemorySegment file, int index, long tag) {
    this.file = file;
    this.offset = slotOffset(index);
    this.tag = tag;
  }

  /** Where slot {@code index} starts in the file. */
  public static long slotOffset(int index) {
    return (long) index * SLOT_BYTES;
  }

  /**
   * Spins up to {@code nanos} until {@code ready} holds; true if it did. Yields the core every few
   * microseconds, so on a machine with more runnable threads than cores the thread it waits for (on
   * the other side of the stream) gets to run.
   */
  public static boolean spinUntil(BooleanSupplier ready, long nanos) {
    long start = System.nanoTime();
    for (int i = 1; ; i++) {
      if (ready.getAsBoolean()) {
        return true;
      }
      if ((i & 63) == 0) {
        if (System.nanoTime() - start >= nanos) {
          return false;
        }
        Thread.yield();
      } else {
        Thread.onSpinWait();
      }
    }
  }

  /** True unless {@code -Dsluice.generator.sharedCredit=false}. */
  public static boolean enabled() {
    return Boolean.parseBoolean(System.getProperty(ENABLED_PROPERTY, "true"));
  }

  /**
   * The producer's view of the slot {@code slot} names, or null if it cannot be read here (the file
   * is missing or not the owner's size): the producer then takes replies alone.
   */
  public static SharedCredit open(SharedCreditSlot slot) {
    if (slot.getIndex() < 0 || slot.getIndex() >= SLOTS || slot.getTag() == 0) {
      return null;
    }
    MemorySegment file = FILES.map(slot.getPath());
    if (file == null) {
      return null;
    }
    return new SharedCredit(file, slot.getIndex(), slot.getTag());
  }

  /**
   * The stream's consumed count as the owner last published it, or -1 if the slot is no longer this
   * stream's (the stream ended or is gone: the producer then waits for replies).
   */
  public long consumed() {
    long before = (long) LONG.getAcquire(file, offset + TAG);
    long consumed = (long) LONG.getAcquire(file, offset + CONSUMED);
    long after = (long) LONG.getAcquire(file, offset + TAG);
    return before == tag && after == tag ? consumed : -1;
  }
}
