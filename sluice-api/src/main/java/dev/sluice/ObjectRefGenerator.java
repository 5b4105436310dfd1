package dev.sluice;

import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The caller's end of a streaming generator task: an iterator of {@link ObjectRef}s, one per item
 * the remote generator yields, available while the task still runs. Items come in yield order, each
 * exactly once, even when reports arrive out of order or the task is retried.
 *
 * <p>Failures: an exception thrown by the generator after {@code k} items gives {@code k} refs,
 * then one ref whose {@code get()} throws {@link TaskException}, then the end. A failure of the
 * task as a whole (its worker died with no retries left, or it was cancelled) yields the
 * generator's own ref ({@link #completed()}) once, whose {@code get()} throws, then the end.
 *
 * <p>{@link #close()} (or losing every reference to the generator) deletes the caller-side stream:
 * unconsumed items are released and a producer blocked on backpressure is let go. It does not
 * cancel the task; {@link Sluice#cancel(ObjectRefGenerator)} does.
 *
 * <p>Thread-safe: several threads may consume one generator; each item goes to one of them.
 *
 * @param <T> the type of the items
 */
public interface ObjectRefGenerator<T>
    extends Iterator<ObjectRef<T>>, Iterable<ObjectRef<T>>, AutoCloseable, Awaitable {

  /** Blocks until the next in-order item is reported or the stream has ended. */
  @Override
  boolean hasNext();

  /**
   * Blocks for the next item's ref and consumes it.
   *
   * @throws NoSuchElementException after the end of the stream
   */
  @Override
  ObjectRef<T> next();

  /** Like {@link #next()}, but gives up after {@code timeout}: empty, and nothing consumed. */
  Optional<ObjectRef<T>> next(Duration timeout);

  /**
   * The next item's ref, asynchronously. Completes exceptionally with {@link
   * NoSuchElementException} after the end of the stream.
   */
  CompletableFuture<ObjectRef<T>> nextAsync();

  /**
   * The generator's own ref: {@code get()} returns when the task ended and throws only if the task
   * failed as a whole (an application error travels in the stream instead).
   */
  ObjectRef<Void> completed();

  /** True if {@link #next()} would not block: the next item, or the end, is already known. */
  boolean nextReady();

  /** True once iteration reached the end. */
  boolean isFinished();

  /** The id of the generator's own ref. */
  ObjectId id();

  /** Deletes the caller-side stream (idempotent). Does not cancel the task. */
  @Override
  void close();

  @Override
  default Iterator<ObjectRef<T>> iterator() {
    return this;
  }
}
