package dev.sluice.bench;

/**
 * A latency measurement made of sequential round trips: one request, wait for its reply, repeat. A
 * round's result is its wall time divided by its round trips, in microseconds.
 */
abstract class RoundTripMeasurement implements Measurement {
  private final String name;
  private final int warmUpOps;
  private final int opsPerRound;

  RoundTripMeasurement(String name, int warmUpOps, int opsPerRound) {
    this.name = name;
    this.warmUpOps = warmUpOps;
    this.opsPerRound = opsPerRound;
  }

  /** Does one round trip; {@code i} counts up and may be used as a payload. */
  abstract void roundTrip(int i) throws Exception;

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final Unit unit() {
    return Unit.MICROS_PER_OP;
  }

  @Override
  public void warmUp() throws Exception {
    for (int i = 0; i < warmUpOps; i++) {
      roundTrip(i);
    }
  }

  @Override
  public final double runRound() throws Exception {
    long t0 = System.nanoTime();
    for (int i = 0; i < opsPerRound; i++) {
      roundTrip(i);
    }
    return (System.nanoTime() - t0) / 1_000.0 / opsPerRound;
  }

  @Override
  public final String workPerRound() {
    return opsPerRound + " round trips";
  }
}
