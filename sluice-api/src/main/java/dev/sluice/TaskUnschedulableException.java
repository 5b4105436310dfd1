package dev.sluice;

/**
 * No node of the cluster can ever run the task: it asks for more of a resource than any node has.
 * The message names the resource, the amount asked for and what the cluster offers.
 */
public class TaskUnschedulableException extends SluiceException {
  /** Creates the exception with a message naming the task and the missing resource. */
  public TaskUnschedulableException(String message) {
    super(message);
  }
}
