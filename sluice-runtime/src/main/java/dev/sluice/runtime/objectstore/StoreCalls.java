package dev.sluice.runtime.objectstore;

import dev.sluice.ObjectId;
import java.util.concurrent.CompletableFuture;

/**
 * The calls a {@link SharedMemoryClient} makes to its node's store and node manager, in the store's
 * own terms: the transport (the node manager's RPCs, or the store itself in the node manager's own
 * process, {@link LocalStoreCalls}) is the implementation's. Transport failures of {@link #pin},
 * {@link #sealInExtent} and {@link #fetch} come back as the typed errors documented there, naming
 * the object and the node.
 *
 * <p>Threads: implementations are thread-safe. Methods returning a value or void without saying
 * otherwise block until the node manager answers; the others return at once.
 */
public interface StoreCalls {
  /** Reserves {@code size} bytes for {@code id} (see {@link SharedMemoryStore#create}). */
  SharedMemoryStore.Created create(ObjectId id, long size);

  /** Seals {@code id}, created by {@link #create} and written. */
  void seal(ObjectId id);

  /**
   * Pins {@code id}.
   *
   * @throws dev.sluice.ObjectLostException if the call failed
   */
  PinAnswer pin(ObjectId id);

  /** Ends one pin of {@code id}; does not wait. */
  void release(ObjectId id);

  /** Frees {@code id}; does not wait. */
  void delete(ObjectId id);

  /** The store's usage. */
  SharedMemoryStore.Usage usage();

  /**
   * Asks for a writer extent with room for at least {@code minSize} bytes: completes with the
   * grant, with null if the node refused (short of room, or too large for an extent), or
   * exceptionally if the call failed. Does not wait.
   */
  CompletableFuture<ExtentGrant> reserveExtent(long minSize);

  /**
   * Seals {@code id}, written in {@code size} bytes at {@code claim}. Does not wait: completes when
   * the node manager has stored it, or exceptionally with {@link dev.sluice.ObjectLostException} if
   * it refused the seal (the extent was freed) or the call failed.
   */
  CompletableFuture<Void> sealInExtent(ObjectId id, ExtentClaim claim, long size);

  /** Gives back {@code size} bytes claimed at {@code claim} and not written; does not wait. */
  void abortInExtent(ObjectId id, ExtentClaim claim, long size);

  /** This process is done writing: its extents are freed. Does not wait. */
  void releaseExtents();

  /**
   * Brings {@code id} from the store at {@code where} (another node's, which names its node
   * manager) into this node's store.
   *
   * @throws dev.sluice.ObjectLostException if the source does not have it or the transfer failed
   * @throws dev.sluice.ObjectStoreFullException if this node's store has no room for it
   * @throws dev.sluice.ObjectTooLargeException if it is larger than this node's store
   */
  void fetch(ObjectId id, StoreLocation where);

  /** Starts {@link #fetch}; does not wait, failures are left to a later fetch or pin. */
  void prefetch(ObjectId id, StoreLocation where);

  /**
   * The answer to a pin: the object's range, or null and why the store could not serve it ({@code
   * reason} empty when it simply does not have the object).
   */
  record PinAnswer(SharedMemoryStore.Pinned range, String reason) {
    /** The store has the object, pinned at {@code range}. */
    public static PinAnswer pinned(SharedMemoryStore.Pinned range) {
      return new PinAnswer(range, "");
    }

    /** The store cannot serve the object, for {@code reason} (empty: it does not have it). */
    public static PinAnswer missing(String reason) {
      return new PinAnswer(null, reason);
    }
  }
}
