package dev.sluice.runtime.owner;

import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The tasks a failed lease's worker had in flight, split into the one that ran and those that
 * never started. A worker runs the tasks of a lease one at a time, in the order they were pushed,
 * and the owner forgets a task once its reply (or its return by a steal or a block) arrives, so
 * of the tasks still in flight only the first can have started. That one is charged a retry; the
 * others waited behind it and go back to the owner's queue unchanged: same spec, same attempt
 * number, no retry spent. The attempt number must stay the number of retries charged so far,
 * because the executor and the owner read it that way (a generator retries an application error
 * only while {@code attemptNumber < maxRetries}; a stream drops reports of older attempts).
 *
 * <p>A worker holds a finished task's reply back for at most a few milliseconds while the next
 * task of the lease starts (replies of short tasks travel together), so a worker that dies within
 * that window charges the finished task instead of the one that ran after it. Every worker death
 * still charges one task, so a task that always kills its worker runs out of retries.
 *
 * <p>Immutable.
 */
record LostTasks(TaskSpec ran, List<TaskSpec> neverStarted) {

  /** Splits {@code inFlight}, in push order; {@code ran} is null when it is empty. */
  static LostTasks of(Collection<TaskSpec> inFlight) {
    List<TaskSpec> all = new ArrayList<>(inFlight);
    if (all.isEmpty()) {
      return new LostTasks(null, List.of());
    }
    return new LostTasks(all.getFirst(), List.copyOf(all.subList(1, all.size())));
  }

  boolean isEmpty() {
    return ran == null;
  }

  int size() {
    return ran == null ? 0 : 1 + neverStarted.size();
  }
}
