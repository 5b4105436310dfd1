package dev.sluice;

import java.util.List;

/**
 * The outcome of {@link Sluice#waitAny}: the inputs that were ready and those that were not, each
 * in input order.
 *
 * @param ready inputs that are ready
 * @param unready the others
 * @param <A> the type of the inputs (an {@code ObjectRef}, an {@code ObjectRefGenerator}, or {@link
 *     Awaitable} for a mix)
 */
public record AwaitResult<A extends Awaitable>(List<A> ready, List<A> unready) {
  /** Copies both lists. */
  public AwaitResult {
    ready = List.copyOf(ready);
    unready = List.copyOf(unready);
  }
}
