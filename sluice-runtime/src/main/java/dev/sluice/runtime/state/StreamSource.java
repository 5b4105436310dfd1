package dev.sluice.runtime.state;

/**
 * One stream whose owner reports its counters ({@link TaskEvents#trackStream}): the owner's
 * caller-side stream implements it.
 */
public interface StreamSource {
  /**
   * The stream's counters now.
   *
   * @param produced items the task reported so far
   * @param consumed items the consumer took so far
   * @param held reported items not consumed yet
   * @param stalledNanos total time the producer was held back by backpressure
   * @param state {@code RUNNING}, {@code FINISHED} or {@code FAILED}
   * @param gone true once the stream was deleted or ended: this is its last report
   */
  record Counters(
      long produced, long consumed, long held, long stalledNanos, String state, boolean gone) {}

  /** Reads the counters; called on the reporter's thread. */
  Counters counters();
}
