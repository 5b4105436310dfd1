package dev.sluice.runtime.owner;

import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.proto.Address;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The borrower side of borrowing (DESIGN "Reference counting"): the messages this process sends to
 * the owners of objects it borrows. It registers a new borrow, lets callers wait until every
 * registration in flight is applied (borrowing without a gap), gives a borrow back only after its
 * registration was applied (so the owner never sees the release first), and sends nothing once
 * closed.
 *
 * <p>Threads: any; holds no lock. The in-flight set is concurrent; sends complete on transport
 * threads.
 */
final class BorrowRegistrations {
  private static final Logger log = LoggerFactory.getLogger(BorrowRegistrations.class);

  private final Address self;
  private final ReferenceCounter.BorrowerUpdates updates;
  private final Set<CompletableFuture<Void>> inFlight = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /** Registrations of the process at {@code self}, sent through {@code updates}. */
  BorrowRegistrations(Address self, ReferenceCounter.BorrowerUpdates updates) {
    this.self = self;
    this.updates = updates;
  }

  /**
   * Registers this process as a borrower of {@code id} at its {@code owner}; {@code done} completes
   * when the owner applied it, failed to, or at once if closed.
   */
  void register(ObjectId id, Address owner, CompletableFuture<Void> done) {
    inFlight.add(done);
    done.whenComplete((v, t) -> inFlight.remove(done));
    if (closed) {
      done.complete(null);
      return;
    }
    updates
        .send(owner, id, self, 1)
        .whenComplete(
            (v, t) -> {
              if (t != null) {
                log.debug(
                    "could not register as a borrower of {} at its owner: {}", id, t.toString());
              }
              done.complete(null);
            });
  }

  /**
   * Registers another process, {@code borrower}, as a borrower of {@code id} at its {@code owner};
   * completes (never exceptionally) when the owner applied it or cannot.
   */
  CompletableFuture<Void> registerFor(ObjectId id, Address owner, Address borrower) {
    return updates.send(owner, id, borrower, 1).exceptionally(t -> null);
  }

  /** Waits (bounded by {@code timeout}) until every registration sent so far is applied. */
  void await(Duration timeout) {
    if (inFlight.isEmpty()) {
      return;
    }
    CompletableFuture<?>[] pending = inFlight.toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(pending).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("borrower registrations did not all complete: {}", e.toString());
    }
  }

  /**
   * The borrowed entry {@code e} of {@code id} went out of scope: gives its borrows back to the
   * owner once its registrations are applied. Nothing is sent for owned entries or once closed.
   */
  void giveBack(ObjectId id, RefTable.Entry e) {
    if (e.owned || e.ownerHolds <= 0 || closed) {
      return;
    }
    int holds = e.ownerHolds;
    e.registered.whenComplete(
        (v, t) -> {
          if (!closed) {
            updates
                .send(e.owner, id, self, -holds)
                .whenComplete(
                    (v2, t2) -> {
                      if (t2 != null) {
                        log.debug("could not release borrow of {}: {}", id, t2.toString());
                      }
                    });
          }
        });
  }

  /** Stops sending (the process is shutting down); registrations from now on complete at once. */
  void close() {
    closed = true;
  }

  /** True once {@link #close closed}. */
  boolean isClosed() {
    return closed;
  }
}
