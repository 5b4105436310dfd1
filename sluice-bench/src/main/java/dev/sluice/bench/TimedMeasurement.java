package dev.sluice.bench;

/**
 * A measurement whose warm-up runs until its rate is steady and whose rounds are made of timed
 * parts ({@link SteadyRounds}, usually in a child JVM), as {@link MirroredRunner} drives the peer
 * groups' measurements.
 */
interface TimedMeasurement extends Measurement {
  /** Warms up until steady (or the policy's limit) and says how it went; not timed. */
  WarmUpReport warmUpUntilSteady() throws Exception;

  /** Runs one timed part of a round: batches for at least the policy's part time. */
  RoundPart runPart() throws Exception;
}
