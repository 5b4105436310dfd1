package dev.sluice.runtime.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The TaskEventSampling rule, on a fake clock. */
class TaskEventSamplingTest {
  private static final long SECOND = 1_000_000_000L;

  /**
   * Rule TaskEventSampling: a burst of up to BURST_SECONDS seconds' worth is recorded whole; beyond
   * it attempts are counted, not recorded.
   */
  @Test
  void aBurstsWorthIsRecordedAndTheRestCounted() {
    AtomicLong now = new AtomicLong(7 * SECOND + 17);
    TaskEventSampling s = new TaskEventSampling(10, now::get);
    int burst = 10 * TaskEventSampling.BURST_SECONDS;
    assertThat(admitted(s, burst + 30)).isEqualTo(burst);
    assertThat(s.takeRefused()).isEqualTo(30);
    assertThat(s.takeRefused()).isZero();
  }

  /**
   * Rule TaskEventSampling: a driver's burst is one second's worth (1,000 attempts by default), so
   * a batch submitted after a pause records no more than that at once.
   */
  @Test
  void theDefaultBurstIsOneSecondsWorth() {
    AtomicLong now = new AtomicLong(SECOND);
    TaskEventSampling s = new TaskEventSampling(TaskEventSampling.DEFAULT_PER_SECOND, now::get);
    now.addAndGet(3_600 * SECOND);
    assertThat(admitted(s, 10_000)).isEqualTo(1_000);
  }

  /** Rule TaskEventSampling: once the bucket is empty, perSecond attempts a second are recorded. */
  @Test
  void sustainedLoadIsRecordedAtPerSecond() {
    AtomicLong now = new AtomicLong(SECOND);
    TaskEventSampling s = new TaskEventSampling(10, now::get);
    admitted(s, 1_000); // empties the bucket
    s.takeRefused();
    int recorded = 0;
    for (int ms = 0; ms < 3_000; ms++) { // three seconds, 20 attempts each millisecond
      now.addAndGet(SECOND / 1_000);
      recorded += admitted(s, 20);
    }
    assertThat(recorded).isBetween(29, 31);
    assertThat(s.takeRefused()).isEqualTo(60_000 - recorded);
  }

  /** Rule TaskEventSampling: an idle owner's bucket fills again, but never past the burst. */
  @Test
  void anIdleBucketRefillsUpToTheBurstOnly() {
    AtomicLong now = new AtomicLong(SECOND);
    TaskEventSampling s = new TaskEventSampling(10, now::get);
    admitted(s, 1_000);
    int half = 5 * TaskEventSampling.BURST_SECONDS; // refilled in half the burst's time
    now.addAndGet(TaskEventSampling.BURST_SECONDS * SECOND / 2);
    assertThat(admitted(s, 1_000)).isBetween(half - 1, half + 1);
    now.addAndGet(3_600 * SECOND);
    assertThat(admitted(s, 1_000)).isEqualTo(10 * TaskEventSampling.BURST_SECONDS);
  }

  /** Rule TaskEventSampling: a rate of 0 records nothing, and a new rate applies at once. */
  @Test
  void zeroRecordsNothingAndANewRateAppliesAtOnce() {
    AtomicLong now = new AtomicLong(SECOND);
    TaskEventSampling s = new TaskEventSampling(0, now::get);
    assertThat(admitted(s, 4)).isZero();
    assertThat(s.takeRefused()).isEqualTo(4);
    s.setPerSecond(2);
    assertThat(admitted(s, 100)).isEqualTo(2 * TaskEventSampling.BURST_SECONDS);
    assertThatThrownBy(() -> s.setPerSecond(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  /** Rule TaskEventSampling: threads racing for one burst never exceed it. */
  @Test
  void racingThreadsNeverExceedTheBurst() throws Exception {
    AtomicLong now = new AtomicLong(SECOND);
    TaskEventSampling s = new TaskEventSampling(200, now::get);
    AtomicLong admitted = new AtomicLong();
    Thread[] threads = new Thread[4];
    for (int t = 0; t < threads.length; t++) {
      threads[t] = Thread.ofPlatform().start(() -> admitted.addAndGet(admitted(s, 2_000)));
    }
    for (Thread t : threads) {
      t.join();
    }
    assertThat(admitted.get()).isEqualTo(200 * TaskEventSampling.BURST_SECONDS);
    assertThat(s.takeRefused()).isEqualTo(8_000 - admitted.get());
  }

  private static int admitted(TaskEventSampling s, int tries) {
    int n = 0;
    for (int i = 0; i < tries; i++) {
      if (s.admit()) {
        n++;
      }
    }
    return n;
  }
}
