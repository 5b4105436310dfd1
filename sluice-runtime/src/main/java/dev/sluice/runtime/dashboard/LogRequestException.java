package dev.sluice.runtime.dashboard;

/**
 * Why the dashboard cannot answer a log request: its HTTP status ({@code 400} a bad parameter or
 * file name, {@code 404} no such node, worker or file, {@code 502} the owning node manager did not
 * answer) and a message that names the node, worker or file. Immutable.
 */
final class LogRequestException extends Exception {
  private final int status;

  LogRequestException(int status, String message) {
    super(message);
    this.status = status;
  }

  LogRequestException(int status, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  /** The HTTP status to answer with. */
  int status() {
    return status;
  }
}
