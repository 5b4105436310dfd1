package dev.sluice.bench;

/**
 * The task functions the Sluice measurements run. They live in a class of their own so that a
 * worker JVM loading them loads nothing else of the harness.
 */
public final class BenchTasks {
  private BenchTasks() {}

  /** Returns its argument: a task that costs nothing, so only the runtime's overhead is timed. */
  public static Integer noop(Integer i) {
    return i;
  }
}
