package com.example.allowed;

/** Test-only: a user exception with a custom field, in an allowed package. */
public class UserException extends Exception {
  private static final long serialVersionUID = 1L;
  private final UserRecord detail;

  public UserException(String message, UserRecord detail, Throwable cause) {
    super(message, cause);
    this.detail = detail;
  }

  public UserRecord detail() {
    return detail;
  }
}
