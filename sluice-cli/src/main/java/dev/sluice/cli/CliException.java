package dev.sluice.cli;

/** A failure of a command, reported to the user as its message alone (exit code 1). */
final class CliException extends RuntimeException {
  CliException(String message) {
    super(message);
  }

  CliException(String message, Throwable cause) {
    super(message, cause);
  }
}
