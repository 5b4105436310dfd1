package dev.sluice;

import java.io.Serializable;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;

/** Common representation of Sluice identifiers: an immutable byte string shown in hex. */
abstract sealed class BaseId implements Serializable
    permits JobId, TaskId, ObjectId, NodeId, WorkerId, ActorId {
  private static final HexFormat HEX = HexFormat.of();
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
  private final byte[] bytes;

  /** Computed on first use (0: not yet), like {@code String.hash}; ids are hashed rarely. */
  private transient int hash;

  BaseId(byte[] bytes, int expectedLength) {
    this(bytes.clone(), expectedLength, false);
  }

  /** Takes {@code bytes} as they are: for arrays the id classes made themselves. */
  BaseId(byte[] bytes, int expectedLength, boolean unused) {
    if (bytes.length != expectedLength) {
      throw new IllegalArgumentException(
          getClass().getSimpleName() + " needs " + expectedLength + " bytes, got " + bytes.length);
    }
    this.bytes = bytes;
  }

  /**
   * A well-mixed hash of all the bytes. {@code Arrays.hashCode} collides heavily for ids that
   * differ only in their last bytes (the return indices of one task), which turns hash maps keyed
   * by object ids into linked trees.
   */
  private static int hash(byte[] b) {
    long h = b.length;
    for (int i = 0; i < b.length; i += 8) {
      long chunk;
      if (i + 8 <= b.length) {
        chunk = (long) LONGS.get(b, i);
      } else {
        chunk = 0;
        for (int j = i; j < b.length; j++) {
          chunk = (chunk << 8) | (b[j] & 0xFF);
        }
      }
      h = (h ^ chunk) * 0x9E3779B97F4A7C15L;
      h ^= h >>> 29;
    }
    h *= 0xBF58476D1CE4E5B9L;
    return (int) (h ^ (h >>> 32));
  }

  static byte[] parseHex(String hex) {
    return HEX.parseHex(hex);
  }

  /** A copy of the identifier's bytes. */
  public byte[] toBytes() {
    return bytes.clone();
  }

  byte[] rawBytes() {
    return bytes;
  }

  /** The identifier in lower-case hex. */
  public String hex() {
    return HEX.formatHex(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o != null && o.getClass() == getClass() && Arrays.equals(bytes, ((BaseId) o).bytes);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0) {
      h = hash(bytes);
      hash = h == 0 ? 1 : h;
    }
    return h == 0 ? 1 : h;
  }

  @Override
  public String toString() {
    return hex();
  }
}
