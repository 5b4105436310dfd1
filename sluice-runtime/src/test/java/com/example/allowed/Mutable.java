package com.example.allowed;

/** Test-only: a mutable, non-Serializable user class that can form cycles. */
public class Mutable {
  public String label;
  public Mutable next;
  public Object payload;

  public Mutable() {}

  public Mutable(String label) {
    this.label = label;
  }
}
