package dev.sluice.bench;

/**
 * A throughput measurement of one stream of small items: a round opens one stream of {@code
 * itemsPerRound} items, reads every item, and is timed from the request to the end of the stream.
 * Its result is items per second, or, for a per-item credit stream whose cost is a round trip per
 * item, microseconds per item.
 */
abstract class ItemStreamMeasurement implements Measurement {
  private final String name;
  private final int itemsPerRound;
  private final int warmUpRounds;
  private final Unit unit;

  ItemStreamMeasurement(String name, int itemsPerRound, int warmUpRounds, Unit unit) {
    if (unit != Unit.ITEMS_PER_SECOND && unit != Unit.MICROS_PER_ITEM) {
      throw new IllegalArgumentException("a stream measures items/s or µs/item, not " + unit);
    }
    this.name = name;
    this.itemsPerRound = itemsPerRound;
    this.warmUpRounds = warmUpRounds;
    this.unit = unit;
  }

  /**
   * Opens one stream of {@code n} items, reads each item's value and checks that item {@code i} is
   * {@code i}, and returns once the stream has ended.
   */
  abstract void stream(int n) throws Exception;

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final Unit unit() {
    return unit;
  }

  @Override
  public void warmUp() throws Exception {
    for (int i = 0; i < warmUpRounds; i++) {
      stream(itemsPerRound);
    }
  }

  @Override
  public final double runRound() throws Exception {
    long t0 = System.nanoTime();
    stream(itemsPerRound);
    long elapsed = System.nanoTime() - t0;
    return unit == Unit.ITEMS_PER_SECOND
        ? itemsPerRound * 1e9 / elapsed
        : elapsed / 1_000.0 / itemsPerRound;
  }

  @Override
  public final String workPerRound() {
    return String.format(java.util.Locale.ROOT, "1 stream of %,d items", itemsPerRound);
  }

  /** Throws unless the stream delivered {@code expected} items. */
  static void checkCount(String what, long count, int expected) {
    if (count != expected) {
      throw new IllegalStateException(
          what + " delivered " + count + " items, expected " + expected);
    }
  }

  /** Throws unless item number {@code index} has the value {@code index}. */
  static void checkItem(String what, long index, int value) {
    if (value != index) {
      throw new IllegalStateException(what + ": item " + index + " is " + value);
    }
  }
}
