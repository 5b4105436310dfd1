package dev.sluice.runtime.node;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import dev.sluice.runtime.rpc.proto.NodeHeartbeatReply;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Frees the objects of finished jobs from this node's store (Ray: objects fate-share with their
 * owner). A job finishes when its driver shuts down, exits or dies; every object id carries the id
 * of its job, and every object of a job is owned by its driver or by a worker running its tasks, so
 * none of them can be used any more. Primary copies, copies pulled from other nodes and spilled
 * copies all go (a pinned one once its reader is done).
 *
 * <p>Learns of finished jobs from heartbeat replies ({@link #apply}), on the node manager's
 * scheduler thread; {@link #seen} may be read from any thread.
 */
final class FinishedJobObjects {
  private static final Logger log = LoggerFactory.getLogger(FinishedJobObjects.class);

  private final NodeId node;
  private final SharedMemoryStore store;
  private volatile long seen;

  FinishedJobObjects(NodeId node, SharedMemoryStore store) {
    this.node = node;
    this.store = store;
  }

  /** How many finished jobs this node has learned of, for the next heartbeat. */
  long seen() {
    return seen;
  }

  /** Frees the objects of the jobs {@code reply} reports finished since the last one. */
  void apply(NodeHeartbeatReply reply) {
    if (reply.getFinishedJobsTotal() <= seen) {
      return;
    }
    for (ByteString job : reply.getFinishedJobsList()) {
      free(JobId.fromBytes(job.toByteArray()));
    }
    seen = reply.getFinishedJobsTotal();
  }

  private void free(JobId job) {
    List<ObjectId> ids = store.objectIds();
    int freed = 0;
    for (ObjectId id : ids) {
      if (id.taskId().jobId().equals(job)) {
        store.delete(id);
        freed++;
      }
    }
    if (freed > 0) {
      log.info(
          "job {} finished: freed its {} objects from the store of node {}",
          job.hex(),
          freed,
          node);
    }
  }
}
