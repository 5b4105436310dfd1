package com.example.allowed;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/** Test-only: a user record in a package the tests put on the allow-list. */
public record UserRecord(
    String name,
    int count,
    Color color,
    List<Double> scores,
    Map<String, List<UserRecord>> children)
    implements Serializable {
  /** Test-only user enum. */
  public enum Color {
    RED,
    GREEN,
    BLUE
  }
}
