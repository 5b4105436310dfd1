package dev.sluice.runtime.objectstore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The store's free list on its own: first fit takes the lowest range that fits, freed ranges merge
 * with free neighbours, and over random sequences of takes and frees (fixed seeds) no range is
 * handed out twice and no byte is lost.
 */
class RangeAllocatorTest {
  private static final long MIB = 1 << 20;

  @Test
  void firstFitTakesTheLowestRangeThatFits() {
    RangeAllocator a = new RangeAllocator(10 * MIB);
    assertThat(a.take(2 * MIB)).isZero();
    assertThat(a.take(2 * MIB)).isEqualTo(2 * MIB);
    assertThat(a.take(2 * MIB)).isEqualTo(4 * MIB);
    a.give(0, 2 * MIB);
    assertThat(a.take(3 * MIB))
        .as("the freed low range is too small: the next one fits")
        .isEqualTo(6 * MIB);
    assertThat(a.take(MIB)).as("the lowest range that fits, even if larger ones follow").isZero();
    assertThat(a.take(2 * MIB)).as("nothing of 2 MiB is free in one range").isEqualTo(-1);
  }

  @Test
  void freedRangesAreCoalescedAndReused() {
    RangeAllocator a = new RangeAllocator(8 * MIB);
    long first = a.take(2 * MIB);
    long second = a.take(2 * MIB);
    a.take(2 * MIB);
    a.give(first, 2 * MIB);
    a.give(second, 2 * MIB);
    assertThat(a.freeRanges())
        .as("the two freed neighbours form one range at the start")
        .containsExactly(Map.entry(0L, 4 * MIB), Map.entry(6 * MIB, 2 * MIB));
    assertThat(a.take(4 * MIB)).isZero();
  }

  @Test
  void aFreedRangeMergesWithTheFreeRangesOnBothSides() {
    RangeAllocator a = new RangeAllocator(3 * MIB);
    long left = a.take(MIB);
    long middle = a.take(MIB);
    long right = a.take(MIB);
    a.give(left, MIB);
    a.give(right, MIB);
    assertThat(a.freeRanges()).hasSize(2);
    a.give(middle, MIB);
    assertThat(a.freeRanges()).containsExactly(Map.entry(0L, 3 * MIB));
    assertThat(a.largestFree()).isEqualTo(3 * MIB);
  }

  @Test
  void takeExactlyTakesAPieceOfOneFreeRangeOrNothing() {
    RangeAllocator a = new RangeAllocator(8 * MIB);
    assertThat(a.takeExactly(2 * MIB, MIB)).isTrue();
    assertThat(a.freeRanges()).containsExactly(Map.entry(0L, 2 * MIB), Map.entry(3 * MIB, 5 * MIB));
    assertThat(a.takeExactly(MIB, 2 * MIB)).as("part of it is taken already").isFalse();
    assertThat(a.freeRanges()).as("nothing taken").hasSize(2);
    a.give(2 * MIB, MIB);
    assertThat(a.freeRanges()).containsExactly(Map.entry(0L, 8 * MIB));
  }

  @Test
  void largestFreeIsZeroWhenEverythingIsTaken() {
    RangeAllocator a = new RangeAllocator(4 * MIB);
    a.take(4 * MIB);
    assertThat(a.largestFree()).isZero();
    assertThat(a.take(RangeAllocator.ALIGN)).isEqualTo(-1);
  }

  @Test
  void sizesAreRoundedUpToTheAllocationUnit() {
    assertThat(RangeAllocator.aligned(1)).isEqualTo(RangeAllocator.ALIGN);
    assertThat(RangeAllocator.aligned(RangeAllocator.ALIGN)).isEqualTo(RangeAllocator.ALIGN);
    assertThat(RangeAllocator.aligned(RangeAllocator.ALIGN + 1))
        .isEqualTo(2 * RangeAllocator.ALIGN);
  }

  /**
   * Random takes, exact takes and frees against a model of which bytes are in use: every range
   * taken was free, a take fails only when no free run is long enough, first fit returns the lowest
   * run that fits, and the free list is exactly the model's maximal free runs (no byte lost, no
   * overlap, always coalesced). At the end everything is one free range again.
   */
  @Test
  void randomTakesAndFreesNeverOverlapAndNeverLoseBytes() {
    for (long seed = 1; seed <= 20; seed++) {
      Random random = new Random(seed);
      int capacity = 256 + random.nextInt(4096);
      RangeAllocator a = new RangeAllocator(capacity);
      BitSet inUse = new BitSet(capacity);
      List<long[]> held = new ArrayList<>();
      for (int op = 0; op < 2000; op++) {
        int kind = random.nextInt(10);
        if (kind < 4 && !held.isEmpty()) {
          long[] r = held.remove(random.nextInt(held.size()));
          a.give(r[0], r[1]);
          inUse.clear((int) r[0], (int) (r[0] + r[1]));
        } else if (kind == 4) {
          int start = random.nextInt(capacity);
          int len = 1 + random.nextInt(Math.min(64, capacity - start));
          boolean wasFree = inUse.get(start, start + len).isEmpty();
          assertThat(a.takeExactly(start, len)).as("seed %d op %d", seed, op).isEqualTo(wasFree);
          if (wasFree) {
            inUse.set(start, start + len);
            held.add(new long[] {start, len});
          }
        } else {
          int need = 1 + random.nextInt(random.nextBoolean() ? 16 : capacity / 4);
          long offset = a.take(need);
          long expected = lowestFit(freeRuns(inUse, capacity), need);
          assertThat(offset).as("first fit, seed %d op %d", seed, op).isEqualTo(expected);
          if (offset >= 0) {
            assertThat(inUse.get((int) offset, (int) offset + need).isEmpty()).isTrue();
            inUse.set((int) offset, (int) offset + need);
            held.add(new long[] {offset, need});
          }
        }
        Map<Long, Long> runs = freeRuns(inUse, capacity);
        assertThat(a.freeRanges()).as("free list, seed %d op %d", seed, op).isEqualTo(runs);
        assertThat(a.largestFree())
            .isEqualTo(runs.values().stream().mapToLong(Long::longValue).max().orElse(0));
      }
      for (long[] r : held) {
        a.give(r[0], r[1]);
      }
      assertThat(a.freeRanges())
          .as("seed %d", seed)
          .containsExactly(Map.entry(0L, (long) capacity));
    }
  }

  /** The maximal runs of free bytes, offset to length. */
  private static Map<Long, Long> freeRuns(BitSet inUse, int capacity) {
    Map<Long, Long> runs = new TreeMap<>();
    int start = inUse.nextClearBit(0);
    while (start < capacity) {
      int end =
          Math.min(capacity, inUse.nextSetBit(start) < 0 ? capacity : inUse.nextSetBit(start));
      runs.put((long) start, (long) (end - start));
      start = inUse.nextClearBit(end);
    }
    return runs;
  }

  private static long lowestFit(Map<Long, Long> runs, long need) {
    for (Map.Entry<Long, Long> run : runs.entrySet()) {
      if (run.getValue() >= need) {
        return run.getKey();
      }
    }
    return -1;
  }
}
