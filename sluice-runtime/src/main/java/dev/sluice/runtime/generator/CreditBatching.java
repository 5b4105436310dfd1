package dev.sluice.runtime.generator;

/**
 * Credit batching, the backpressure rule of a streaming generator with a window of {@code n} items
 * ({@code generatorBackpressureNumObjects(n)}; DESIGN "Credit batching"). Both sides apply it:
 *
 * <ul>
 *   <li><b>The producer keeps up to {@code n} items in flight, never more</b>: it may produce while
 *       {@code generated - consumed < n}, where {@code consumed} is the largest count the owner's
 *       replies carried ({@link #mayProduce}, {@link #allowedTotal}).
 *   <li><b>The owner returns credit in batches</b>: a report's reply is held when the report fills
 *       the window (the unconsumed count is at or over {@code n}: the producer is out of credit);
 *       held replies are answered once the consumer freed a batch of {@code ⌈n/2⌉} items (the
 *       unconsumed count is at or under {@code n - ⌈n/2⌉}), or once credit freed by a consume has
 *       waited {@link #MAX_DELAY_NANOS} ({@link #holdsReply}, {@link #releasesHeld}). A producer
 *       let go thus gets at least {@code ⌈n/2⌉} items of credit at once, unless its consumer is
 *       slow, and the items it then makes travel several to a report while the consumer still has
 *       {@code n - ⌈n/2⌉} to take: the stream pipelines instead of paying a round trip per item.
 * </ul>
 *
 * <p>With {@code n = 1} and {@code n = 2} the batch is one item and the rule is the plain credit
 * rule: every consume under the window answers. Every report is answered exactly once, whether it
 * was held or not.
 *
 * <p>Immutable and thread-safe.
 */
public final class CreditBatching {
  /**
   * Longest that credit a consume freed waits for its batch: a consumer slower than this per item
   * gets its items refilled one by one, as without batching.
   */
  public static final long MAX_DELAY_NANOS = 2_000_000;

  private static final CreditBatching OFF = new CreditBatching(-1);

  private final long window;
  private final long batch;

  private CreditBatching(long window) {
    this.window = window;
    this.batch = window > 0 ? (window + 1) / 2 : 0;
  }

  /** The rule for a window of {@code n} items; {@code n <= 0} (-1) means no backpressure. */
  public static CreditBatching forWindow(long n) {
    return n > 0 ? new CreditBatching(n) : OFF;
  }

  /** True if the stream has backpressure at all. */
  public boolean on() {
    return window > 0;
  }

  /** The window {@code n}, or -1 without backpressure. */
  public long window() {
    return on() ? window : -1;
  }

  /** The smallest credit a held reply returns unless its consumer is slow: {@code ⌈n/2⌉}. */
  public long batch() {
    return batch;
  }

  // ------------------------------------------------------------------ producer side

  /** True if the producer may produce another item: {@code generated - consumed < n}. */
  public boolean mayProduce(long generated, long consumed) {
    return !on() || generated - consumed < window;
  }

  /** The most items the producer may have produced in total, given {@code consumed}. */
  public long allowedTotal(long consumed) {
    return on() ? consumed + window : Long.MAX_VALUE;
  }

  // ------------------------------------------------------------------ owner side

  /**
   * True if the reply to a report that leaves {@code unconsumed} items unconsumed is held: the
   * report filled the window.
   */
  public boolean holdsReply(long unconsumed) {
    return on() && unconsumed >= window;
  }

  /**
   * True if held replies are answered now: the consumer has brought the unconsumed count down to
   * {@code n - ⌈n/2⌉}, or below {@code n} and the credit it freed has waited {@code owedForNanos
   * >=} {@link #MAX_DELAY_NANOS}.
   */
  public boolean releasesHeld(long unconsumed, long owedForNanos) {
    if (!on()) {
      return true;
    }
    return unconsumed < window && (unconsumed <= window - batch || owedForNanos >= MAX_DELAY_NANOS);
  }

  /** True if a consume that left {@code unconsumed} items freed credit for held replies. */
  public boolean owesCredit(long unconsumed) {
    return on() && unconsumed < window;
  }
}
