package dev.sluice.runtime.generator;

import dev.sluice.runtime.rpc.proto.SharedCreditSlot;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32C;

/**
 * Shared items, the same-node item path of a streaming generator with a window (DESIGN "Shared
 * items"): while the stream's consumer is spinning for its next item, the producer writes small
 * items into a ring in a file of the owner's socket directory instead of reporting them, and the
 * consumer takes them from there, so a pipelined window needs no report, no reply and no thread
 * wake-up. Both sides apply the rules here: the producer through a {@link Writer}, the owner
 * through a {@link Reader}.
 *
 * <ul>
 *   <li><b>Only while someone looks</b>: the owner sets the ring's polling flag while a consumer
 *       spins on the stream, and clears it (then drains the ring once more) before any consumer
 *       relies on being woken. The producer writes an item into the ring only while the flag is
 *       set, and reads the flag again after the write: if it was cleared meanwhile it reports the
 *       item too. Both are sequentially consistent accesses, so either the consumer's last drain
 *       sees the item or the producer sees the flag cleared (a duplicate report is ignored, as any
 *       duplicate is).
 *   <li><b>Claim, then write, then commit</b>: a producer claims a position by compare-and-set of
 *       the ring's published count, writes the entry (the stream's tag, index, attempt, length,
 *       checksum, payload) and commits it by storing its sequence number last. The owner drains in
 *       order, stops at an entry not committed yet or whose checksum fails (it tries again later),
 *       and skips entries of another tag (a producer that outlived its stream).
 *   <li><b>Nothing is lost</b>: the producer keeps the items the owner has not drained yet, and
 *       before it waits for a reply (out of credit, the spin over) it reports them again, and at
 *       least its last item, so the owner holds that reply as credit batching says; a ring that
 *       stopped at a bad entry thus degrades to reports. Items the ring cannot carry (larger than
 *       {@link #PAYLOAD_BYTES}, in the store, with nested refs, a full ring, a publisher's items)
 *       are reported as before.
 *   <li><b>The end follows the items</b>: the producer writes its items before it sends the final
 *       reply, and the owner drains the ring before it sets the end.
 * </ul>
 *
 * <p>Layout: {@link #RINGS} rings of {@link #RING_BYTES} bytes, ring {@code i} serving the stream
 * holding shared-credit slot {@code i}: the tag, the published (claimed) count, the drained count
 * and the polling flag each on a cache line of their own, then {@link #ENTRIES} entries of {@link
 * #ENTRY_BYTES} bytes.
 */
public final class SharedItems {

  /**
   * Switch: {@code -Dsluice.generator.sharedItems=false} in an owner makes no ring, so its streams'
   * items all come in reports (for comparison, and the fallback's tests).
   */
  public static final String ENABLED_PROPERTY = "sluice.generator.sharedItems";

  /** Rings in one owner's file: one per shared-credit slot. */
  public static final int RINGS = SharedCredit.SLOTS;

  /** Entries in a ring. */
  public static final int ENTRIES = 64;

  /** Bytes of one entry. */
  public static final int ENTRY_BYTES = 128;

  static final long RING_TAG = 0;
  static final long PUBLISHED = 64;
  static final long DRAINED = 128;
  static final long POLLING = 192;
  static final long FIRST_ENTRY = 256;

  /** Bytes of one ring. */
  public static final long RING_BYTES = FIRST_ENTRY + (long) ENTRIES * ENTRY_BYTES;

  /** Bytes of one owner's file. */
  public static final long FILE_BYTES = RINGS * RING_BYTES;

  static final long E_SEQ = 0;
  static final long E_TAG = 8;
  static final long E_INDEX = 16;
  static final long E_ATTEMPT = 24;
  static final long E_LEN = 28;
  static final long E_CHECK = 32;
  static final long E_PAYLOAD = 40;

  /** Largest serialized item an entry carries. */
  public static final int PAYLOAD_BYTES = (int) (ENTRY_BYTES - E_PAYLOAD);

  private static final VarHandle LONG = SharedCredit.LONG;
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  /** The files this process mapped to write items into. */
  private static final OwnerFiles FILES = new OwnerFiles("shared items", FILE_BYTES, true);

  /** Items owners of this process took from rings (a diagnostic: tests show the path is used). */
  private static final LongAdder TAKEN = new LongAdder();

  private SharedItems() {}

  /** How many items the owners of this process took from rings so far. */
  public static long itemsTaken() {
    return TAKEN.sum();
  }

  /** True unless {@code -Dsluice.generator.sharedItems=false}. */
  public static boolean enabled() {
    return Boolean.parseBoolean(System.getProperty(ENABLED_PROPERTY, "true"));
  }

  /** Where ring {@code index} starts in the file. */
  public static long ringOffset(int index) {
    return index * RING_BYTES;
  }

  private static long entryOffset(long ring, long position) {
    return ring + FIRST_ENTRY + (position % ENTRIES) * ENTRY_BYTES;
  }

  private static int check(CRC32C crc, long tag, long index, int attempt, byte[] payload, int len) {
    crc.reset();
    crc.update(payload, 0, len);
    long mix = tag * 0x9E3779B97F4A7C15L ^ index * 0xC2B2AE3D27D4EB4FL ^ attempt ^ (long) len << 40;
    return (int) crc.getValue() ^ Long.hashCode(mix);
  }

  /**
   * The producer's view of the ring that {@code slot} names, or null if there is none or it cannot
   * be mapped here (the producer then reports every item).
   */
  public static Writer open(SharedCreditSlot slot) {
    if (slot.getItemsPath().isEmpty()
        || slot.getIndex() < 0
        || slot.getIndex() >= RINGS
        || slot.getTag() == 0) {
      return null;
    }
    MemorySegment file = FILES.map(slot.getItemsPath());
    if (file == null) {
      return null;
    }
    return new Writer(file, slot.getIndex(), slot.getTag());
  }

  /**
   * The producer's side of one stream's ring. Used by the generator's one producing thread; the
   * claim makes a second writer (a producer that outlived its stream) harmless, not supported.
   */
  public static final class Writer {
    private final MemorySegment file;
    private final long ring;
    private final long tag;
    private final CRC32C crc = new CRC32C();
    private long lastPosition = -1;

    Writer(MemorySegment file, int index, long tag) {
      this.file = file;
      this.ring = ringOffset(index);
      this.tag = tag;
    }

    /** What became of an item offered to the ring. */
    public enum Offer {
      /** In the ring, and a consumer was looking: nothing more to send. */
      WRITTEN,
      /** In the ring, but no consumer may be looking any more: report it too. */
      UNSEEN,
      /** Not in the ring: report it. */
      REFUSED
    }

    /**
     * Offers item {@code index} of {@code attempt}, serialized in {@code payload[0, len)}: written
     * only while a consumer polls the ring, the ring has room and is still this stream's.
     */
    public Offer offer(long index, int attempt, byte[] payload, int len) {
      if (len > PAYLOAD_BYTES
          || (long) LONG.getVolatile(file, ring + POLLING) == 0
          || (long) LONG.getAcquire(file, ring + RING_TAG) != tag) {
        return Offer.REFUSED;
      }
      // Everything that could fail or take time comes before the claim: between the claim and the
      // commit there are only stores, so a producer rarely dies holding a claim.
      int check = check(crc, tag, index, attempt, payload, len);
      long p = (long) LONG.getAcquire(file, ring + PUBLISHED);
      if (p - (long) LONG.getAcquire(file, ring + DRAINED) >= ENTRIES
          || !LONG.compareAndSet(file, ring + PUBLISHED, p, p + 1)) {
        return Offer.REFUSED;
      }
      long e = entryOffset(ring, p);
      LONG.set(file, e + E_TAG, tag);
      LONG.set(file, e + E_INDEX, index);
      INT.set(file, e + E_ATTEMPT, attempt);
      INT.set(file, e + E_LEN, len);
      INT.set(file, e + E_CHECK, check);
      MemorySegment.copy(payload, 0, file, ValueLayout.JAVA_BYTE, e + E_PAYLOAD, len);
      // Volatile, not release: the polling flag is read after it (the store-load order matters).
      LONG.setVolatile(file, e + E_SEQ, p + 1);
      lastPosition = p;
      return (long) LONG.getVolatile(file, ring + POLLING) != 0
              && (long) LONG.getAcquire(file, ring + RING_TAG) == tag
          ? Offer.WRITTEN
          : Offer.UNSEEN;
    }

    /** The ring position of the last item written. */
    public long lastPosition() {
      return lastPosition;
    }

    /** How many positions the owner has drained: items written below it reached the stream. */
    public long drained() {
      return (long) LONG.getAcquire(file, ring + DRAINED);
    }
  }

  /** Takes the items the owner drains from a ring. */
  public interface Sink {
    /**
     * Item {@code index} of {@code attempt}, serialized in {@code payload}; false if it cannot be
     * taken (the drain stops before it, and its producer reports it again).
     */
    boolean item(long index, int attempt, byte[] payload);
  }

  /**
   * The owner's side of one stream's ring, in the file it maps read-write. Not thread-safe: its
   * stream calls it under its lock; {@link #hasNew} may be read by a spinning consumer outside it.
   */
  public static final class Reader {
    private final MemorySegment file;
    private final long ring;
    private final long tag;
    private final CRC32C crc = new CRC32C();
    private volatile long drained;
    private boolean polling;

    /** Takes ring {@code index} for the stream whose tag is {@code tag}, emptied and not polled. */
    public Reader(MemorySegment file, int index, long tag) {
      this.file = file;
      this.ring = ringOffset(index);
      this.tag = tag;
      // A position claimed before this stream (by a producer of the ring's last stream) is skipped.
      long published = (long) LONG.getAcquire(file, ring + PUBLISHED);
      this.drained = published;
      LONG.setRelease(file, ring + DRAINED, published);
      LONG.setVolatile(file, ring + POLLING, 0L);
      LONG.setVolatile(file, ring + RING_TAG, tag);
    }

    /** Gives the ring up: its producer writes nothing more into it. */
    public void clear() {
      LONG.setVolatile(file, ring + POLLING, 0L);
      LONG.setVolatile(file, ring + RING_TAG, 0L);
      polling = false;
    }

    /** Sets or clears the polling flag (a sequentially consistent store). */
    public void polling(boolean on) {
      if (polling != on) {
        polling = on;
        LONG.setVolatile(file, ring + POLLING, on ? 1L : 0L);
      }
    }

    /** True while the polling flag is set. */
    public boolean polling() {
      return polling;
    }

    /**
     * True if the entry at the drained count was committed: worth draining. Read by a spinning
     * consumer outside the stream's lock (a claim alone does not end its spin: the entry is still
     * being written).
     */
    public boolean hasNew() {
      long d = drained;
      return (long) LONG.getVolatile(file, ring + PUBLISHED) != d
          && (long) LONG.getVolatile(file, entryOffset(ring, d) + E_SEQ) == d + 1;
    }

    /**
     * Hands {@code sink} the committed entries from the drained count on, in order, skipping those
     * of another tag. Stops at an entry whose checksum fails, and at one not committed yet unless a
     * later entry of this stream's {@code attempt} is committed: an attempt's producer commits its
     * claims in order, so that claim is a dead or stale producer's and will never be committed.
     *
     * @return the number of entries of this stream handed over
     */
    public int drain(int attempt, Sink sink) {
      long published = (long) LONG.getVolatile(file, ring + PUBLISHED);
      long d = drained;
      int taken = 0;
      while (d < published) {
        Entry entry = read(d);
        if (entry == null) {
          if (!abandoned(d, published, attempt)) {
            break;
          }
          d++;
          continue;
        }
        if (entry == TORN) {
          break;
        }
        if (entry.tag == tag) {
          if (!sink.item(entry.index, entry.attempt, entry.payload)) {
            break;
          }
          taken++;
        }
        d++;
      }
      if (taken > 0) {
        TAKEN.add(taken);
      }
      if (d != drained) {
        drained = d;
        LONG.setRelease(file, ring + DRAINED, d);
      }
      return taken;
    }

    private record Entry(long tag, long index, int attempt, byte[] payload) {}

    private static final Entry TORN = new Entry(0, 0, 0, new byte[0]);

    /** The committed entry at {@code position}; null if not committed; {@link #TORN} if invalid. */
    private Entry read(long position) {
      long e = entryOffset(ring, position);
      if ((long) LONG.getVolatile(file, e + E_SEQ) != position + 1) {
        return null;
      }
      long entryTag = (long) LONG.get(file, e + E_TAG);
      long index = (long) LONG.get(file, e + E_INDEX);
      int attempt = (int) INT.get(file, e + E_ATTEMPT);
      int len = (int) INT.get(file, e + E_LEN);
      if (len < 0 || len > PAYLOAD_BYTES) {
        return TORN;
      }
      byte[] payload = new byte[len];
      MemorySegment.copy(file, ValueLayout.JAVA_BYTE, e + E_PAYLOAD, payload, 0, len);
      int expected = (int) INT.get(file, e + E_CHECK);
      // Read the sequence again (a seqlock's second read): a late writer of the position's previous
      // turn may have torn the entry meanwhile.
      VarHandle.loadLoadFence();
      if (expected != check(crc, entryTag, index, attempt, payload, len)
          || (long) LONG.getVolatile(file, e + E_SEQ) != position + 1) {
        return TORN;
      }
      return new Entry(entryTag, index, attempt, payload);
    }

    /**
     * True if the uncommitted claim at {@code position} will never be committed: a later entry of
     * this stream's {@code attempt} is committed, and that attempt's one producer commits in order.
     */
    private boolean abandoned(long position, long published, int attempt) {
      for (long p = position + 1; p < published && p < position + ENTRIES; p++) {
        Entry later = read(p);
        if (later != null && later != TORN && later.tag == tag && later.attempt == attempt) {
          return true;
        }
      }
      return false;
    }
  }
}
