package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.WorkerId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner side of borrowing (DESIGN "Reference counting"): which other processes hold objects
 * this process owns, counted per worker id in each {@link RefTable.Entry}, and the rules for
 * borrowers that die. A borrow for an object already freed does not bring it back; an exited
 * worker's borrows are forgotten; a dead node's workers' borrows are forgotten, including those
 * that arrive after the node was reported dead.
 *
 * <p>Threads: any. Counts change only through {@link RefTable#update} (ReferenceCounter's lock);
 * the worker-to-node map and the dead nodes are concurrent sets read without it.
 */
final class Borrowers {
  private static final Logger log = LoggerFactory.getLogger(Borrowers.class);

  private final RefTable table;

  /** The node of each worker that borrowed from this process, for {@link #removeOnNode}. */
  private final Map<ByteString, ByteString> borrowerNodes = new ConcurrentHashMap<>();

  /** Nodes reported dead: borrows by their workers that arrive late are ignored. */
  private final Set<ByteString> deadNodes = ConcurrentHashMap.newKeySet();

  Borrowers(RefTable table) {
    this.table = table;
  }

  /**
   * The worker {@code borrower}, on node {@code borrowerNode} (empty if unknown), holds {@code
   * delta} more (or fewer) borrows of owned object {@code id}.
   */
  void update(ObjectId id, ByteString borrower, ByteString borrowerNode, int delta) {
    if (delta > 0 && !borrowerNode.isEmpty()) {
      if (deadNodes.contains(borrowerNode)) {
        // Sent (by an executor, for its task's owner) before that owner's node died.
        log.debug(
            "ignoring a borrow of {} by worker {} on a dead node",
            id,
            WorkerId.fromBytes(borrower.toByteArray()));
        return;
      }
      borrowerNodes.put(borrower, borrowerNode);
    }
    boolean[] found = new boolean[1];
    table.update(
        id,
        null,
        false,
        e -> {
          found[0] = true;
          if (delta > 0) {
            add(e, borrower, delta);
          } else {
            remove(e, borrower, -delta);
          }
        });
    if (!found[0] && delta > 0) {
      log.warn(
          "worker {} registered as a borrower of {}, which is already freed",
          WorkerId.fromBytes(borrower.toByteArray()),
          id);
    }
  }

  /** Forgets every borrow held by the worker {@code borrower}, which exited. */
  void removeWorker(ByteString borrower) {
    borrowerNodes.remove(borrower);
    List<ObjectId> held =
        table.select(
            e -> {
              Map<ByteString, Integer> b = e.borrowers;
              return b != null && b.containsKey(borrower);
            });
    for (ObjectId id : held) {
      table.update(
          id,
          null,
          false,
          e -> {
            if (e.borrowers != null) {
              e.borrowers.remove(borrower);
            }
          });
    }
    if (!held.isEmpty()) {
      log.info(
          "released {} object(s) borrowed by exited worker {}",
          held.size(),
          WorkerId.fromBytes(borrower.toByteArray()));
    }
  }

  /** Node {@code node} died: forgets the borrows of its workers, now and arriving later. */
  void removeOnNode(ByteString node) {
    deadNodes.add(node);
    List<ByteString> gone = new ArrayList<>();
    borrowerNodes.forEach(
        (worker, n) -> {
          if (n.equals(node)) {
            gone.add(worker);
          }
        });
    gone.forEach(this::removeWorker);
  }

  /**
   * Adds {@code n} borrows by {@code borrower} to {@code e}; called under ReferenceCounter's lock.
   */
  static void add(RefTable.Entry e, ByteString borrower, int n) {
    if (e.borrowers == null) {
      e.borrowers = new ConcurrentHashMap<>(4);
    }
    e.borrowers.merge(borrower, n, Integer::sum);
  }

  /**
   * Removes up to {@code n} borrows by {@code borrower} from {@code e}; called under
   * ReferenceCounter's lock.
   */
  static void remove(RefTable.Entry e, ByteString borrower, int n) {
    if (e.borrowers == null) {
      return;
    }
    e.borrowers.computeIfPresent(borrower, (k, v) -> v - n <= 0 ? null : v - n);
  }
}
