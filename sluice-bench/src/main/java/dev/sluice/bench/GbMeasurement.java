package dev.sluice.bench;

/** A measurement of bytes moved per second by {@link #once()}, one call per round. */
abstract class GbMeasurement implements Measurement {
  private final String name;
  private final long bytesPerRound;
  private final String work;

  GbMeasurement(String name, long bytesPerRound, String work) {
    this.name = name;
    this.bytesPerRound = bytesPerRound;
    this.work = work;
  }

  /** Moves {@code bytesPerRound} bytes. */
  abstract void once() throws Exception;

  @Override
  public String name() {
    return name;
  }

  @Override
  public Unit unit() {
    return Unit.GB_PER_SECOND;
  }

  @Override
  public void warmUp() throws Exception {
    once();
  }

  @Override
  public double runRound() throws Exception {
    long t0 = System.nanoTime();
    once();
    return bytesPerRound / (double) (System.nanoTime() - t0);
  }

  @Override
  public String workPerRound() {
    return work;
  }
}
