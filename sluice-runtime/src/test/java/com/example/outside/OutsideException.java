package com.example.outside;

/** Test-only: an exception outside the allow-list, optionally holding an outside payload. */
public class OutsideException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final OutsidePayload payload;

  public OutsideException(String message, OutsidePayload payload) {
    super(message);
    this.payload = payload;
  }

  public OutsidePayload payload() {
    return payload;
  }
}
