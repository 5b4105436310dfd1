package dev.sluice.bench;

/**
 * One thing the harness measures: it is warmed up once, then run for several timed rounds that the
 * harness interleaves with the rounds of the other measurements, so that every measurement sees the
 * same machine noise. Each round yields one number in {@link #unit()}.
 */
interface Measurement extends AutoCloseable {
  /** A short human name, used in progress lines and tables. */
  String name();

  /** What a round's number means. */
  Unit unit();

  /** Gets the code paths compiled and the connections established; not timed. */
  void warmUp() throws Exception;

  /** Runs one timed round and returns its result in {@link #unit()}. */
  double runRound() throws Exception;

  /** Work done per round, for the detail table (e.g. "5000 round trips"). */
  String workPerRound();

  /** Releases servers, channels and threads the measurement started. */
  @Override
  default void close() {}

  /** Units of a round's result, and which direction is better. */
  enum Unit {
    /** Microseconds per operation: lower is better. */
    MICROS_PER_OP("µs", false),
    /** Operations per second: higher is better. */
    OPS_PER_SECOND("tasks/s", true),
    /** Stream items per second: higher is better. */
    ITEMS_PER_SECOND("items/s", true),
    /** Microseconds per stream item: lower is better. */
    MICROS_PER_ITEM("µs/item", false),
    /** Bytes of heap: lower is better. */
    BYTES("B", false),
    /** Gigabytes (10^9 bytes) per second moved end to end: higher is better. */
    GB_PER_SECOND("GB/s", true);

    final String symbol;
    final boolean higherIsBetter;

    Unit(String symbol, boolean higherIsBetter) {
      this.symbol = symbol;
      this.higherIsBetter = higherIsBetter;
    }
  }
}
