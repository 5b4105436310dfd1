package dev.sluice.runtime.owner;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The tasks a failed lease's worker had in flight, split into those that ran and those that never
 * started. A worker runs the tasks of a lease one at a time, in the order they were pushed, except
 * that the next one starts while every earlier one is blocked (the CPU-lending rule), and then the
 * worker says so ({@code TaskResultBatch.started_task_ids}). The owner forgets a task once its
 * reply (or its return by a steal) arrives, so of the tasks still in flight the first has started,
 * and so has every task the worker reported started. Those are charged a retry; the others waited
 * behind them and go back to the owner's queue unchanged: same spec, same attempt number, no retry
 * spent. The attempt number must stay the number of retries charged so far, because the executor
 * and the owner read it that way (a generator retries an application error only while {@code
 * attemptNumber < maxRetries}; a stream drops reports of older attempts).
 *
 * <p>A worker holds a finished task's reply back for at most a few milliseconds while the next task
 * of the lease starts (replies of short tasks travel together), so a worker that dies within that
 * window charges the finished task instead of the one that ran after it. Every worker death still
 * charges at least one task, so a task that always kills its worker runs out of retries.
 *
 * <p>Immutable.
 */
record LostTasks(List<TaskSpec> ran, List<TaskSpec> neverStarted) {

  /**
   * Splits {@code inFlight}, in push order, given the ids of the tasks the worker reported {@code
   * started} while an earlier one still ran.
   */
  static LostTasks of(Collection<TaskSpec> inFlight, Set<ByteString> started) {
    List<TaskSpec> ran = new ArrayList<>();
    List<TaskSpec> waited = new ArrayList<>();
    for (TaskSpec spec : inFlight) {
      if (ran.isEmpty() || started.contains(spec.getTaskId())) {
        ran.add(spec);
      } else {
        waited.add(spec);
      }
    }
    return new LostTasks(List.copyOf(ran), List.copyOf(waited));
  }

  boolean isEmpty() {
    return ran.isEmpty();
  }

  int size() {
    return ran.size() + neverStarted.size();
  }
}
