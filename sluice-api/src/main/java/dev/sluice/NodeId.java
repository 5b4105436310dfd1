package dev.sluice;

import java.security.SecureRandom;

/** Identifies a node (16 random bytes). */
public final class NodeId extends BaseId {
  /** Length in bytes. */
  public static final int LENGTH = 16;

  private static final SecureRandom RANDOM = new SecureRandom();

  private NodeId(byte[] bytes) {
    super(bytes, LENGTH);
  }

  /** A fresh random id. */
  public static NodeId random() {
    byte[] b = new byte[LENGTH];
    RANDOM.nextBytes(b);
    return new NodeId(b);
  }

  /** Parses {@link #toBytes()} output. */
  public static NodeId fromBytes(byte[] bytes) {
    return new NodeId(bytes);
  }

  /** Parses {@link #hex()} output. */
  public static NodeId fromHex(String hex) {
    return new NodeId(parseHex(hex));
  }
}
