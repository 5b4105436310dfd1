package dev.sluice;

import java.util.HashMap;
import java.util.Map;

/**
 * Task attempts counted by function and state, as {@code sluice summary tasks} and {@link
 * ClusterState#summarizeTasks()} show them (Ray's {@code summarize_tasks}). Counts every attempt
 * the control service still keeps (finished ones beyond its cap are evicted, oldest first).
 *
 * @param byFunction function name ({@link TaskState#functionName()}) to the number of its attempts
 *     in each state (states without attempts are absent)
 * @param totalTasks attempts counted
 * @param droppedEvents task events that owners and executors dropped because their buffers were
 *     full, or that the control service evicted before they were summarized: when non-zero, counts
 *     are lower than the truth
 */
public record TaskSummary(
    Map<String, Map<TaskStatus, Long>> byFunction, long totalTasks, long droppedEvents) {
  /** Copies the maps. */
  public TaskSummary {
    Map<String, Map<TaskStatus, Long>> copy = new HashMap<>();
    byFunction.forEach((function, counts) -> copy.put(function, Map.copyOf(counts)));
    byFunction = Map.copyOf(copy);
  }

  /** Attempts of {@code function} in {@code state}; 0 if none. */
  public long count(String function, TaskStatus state) {
    return byFunction.getOrDefault(function, Map.of()).getOrDefault(state, 0L);
  }
}
