package dev.sluice.runtime.generator;

import dev.sluice.runtime.rpc.proto.TaskSpec;

/**
 * The retry budget a generator's executor is told about. The owner alone keeps the budget (the
 * retries left of a task); when it builds the spec of an attempt it records, once, whether an
 * application error of that attempt will be retried: {@code retry_exceptions} and at least one
 * retry left. The executor reads the answer instead of working it out again: when true, it fails
 * the task as a whole (to be retried) rather than reporting an error item. Stateless and
 * thread-safe.
 */
public final class GeneratorRetries {
  private GeneratorRetries() {}

  /**
   * Records in {@code spec} whether an application error of this attempt will be retried, given the
   * owner's {@code retriesLeft} for it; returns {@code spec}.
   */
  public static TaskSpec.Builder withBudget(TaskSpec.Builder spec, int retriesLeft) {
    return spec.setWillRetryApplicationError(spec.getRetryExceptions() && retriesLeft > 0);
  }

  /** True if the owner will retry an application error of the attempt {@code spec} describes. */
  public static boolean willRetryApplicationError(TaskSpec spec) {
    return spec.getWillRetryApplicationError();
  }
}
