package dev.sluice.runtime.node;

/**
 * The control service refused to register this node again: it declared the node dead (owners have
 * failed or retried its work), so the node must stop rather than serve more. Thrown by {@link
 * ControlClient#registerNode}.
 */
final class NodeDeclaredDeadException extends RuntimeException {
  private final String reason;

  NodeDeclaredDeadException(String message, String reason, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** The control service's reason, as it stated it (may be null). */
  String reason() {
    return reason;
  }
}
