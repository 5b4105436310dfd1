package dev.sluice;

import java.security.SecureRandom;

/** Identifies a worker process (16 random bytes). */
public final class WorkerId extends BaseId {
  /** Length in bytes. */
  public static final int LENGTH = 16;

  private static final SecureRandom RANDOM = new SecureRandom();

  private WorkerId(byte[] bytes) {
    super(bytes, LENGTH);
  }

  /** A fresh random id. */
  public static WorkerId random() {
    byte[] b = new byte[LENGTH];
    RANDOM.nextBytes(b);
    return new WorkerId(b);
  }

  /** Parses {@link #toBytes()} output. */
  public static WorkerId fromBytes(byte[] bytes) {
    return new WorkerId(bytes);
  }

  /** Parses {@link #hex()} output. */
  public static WorkerId fromHex(String hex) {
    return new WorkerId(parseHex(hex));
  }
}
