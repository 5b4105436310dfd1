package dev.sluice;

import java.util.List;

/**
 * The outcome of {@link Sluice#wait(List, int, java.time.Duration)}: the refs that were ready and
 * those that were not, each in input order.
 *
 * @param ready refs whose value (or error) is available
 * @param unready the others
 * @param <T> the type of the values
 */
public record WaitResult<T>(List<ObjectRef<T>> ready, List<ObjectRef<T>> unready) {
  /** Copies both lists. */
  public WaitResult {
    ready = List.copyOf(ready);
    unready = List.copyOf(unready);
  }
}
