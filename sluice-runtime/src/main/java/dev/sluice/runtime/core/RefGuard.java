package dev.sluice.runtime.core;

import dev.sluice.ObjectRef;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.rpc.proto.Address;

/**
 * Checks on refs handed to the API: that a ref is one of Sluice's and usable in this session
 * ({@link #impl}), and whether this process owns its object ({@link #isOwnedHere}).
 *
 * <p>Threads: any thread; stateless.
 */
final class RefGuard {
  private final ReferenceCounter refs;
  private final Address self;

  RefGuard(ReferenceCounter refs, Address self) {
    this.refs = refs;
    this.self = self;
  }

  /**
   * {@code ref} as Sluice's implementation.
   *
   * @throws IllegalArgumentException if it was not created by Sluice
   */
  ObjectRefImpl<?> impl(ObjectRef<?> ref) {
    if (ref instanceof ObjectRefImpl<?> r) {
      r.checkUsableIn(refs);
      return r;
    }
    throw new IllegalArgumentException("not an ObjectRef created by Sluice: " + ref);
  }

  /** Whether this process owns the object of {@code r}. */
  boolean isOwnedHere(ObjectRefImpl<?> r) {
    return r.owner().getWorkerId().equals(self.getWorkerId());
  }
}
