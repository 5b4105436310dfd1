package dev.sluice;

import java.io.Serializable;
import java.util.Arrays;
import java.util.HexFormat;

/** Common representation of Sluice identifiers: an immutable byte string shown in hex. */
abstract sealed class BaseId implements Serializable permits JobId, TaskId, ObjectId, NodeId, WorkerId {
  private static final HexFormat HEX = HexFormat.of();
  private final byte[] bytes;
  private final int hash;

  BaseId(byte[] bytes, int expectedLength) {
    if (bytes.length != expectedLength) {
      throw new IllegalArgumentException(
          getClass().getSimpleName() + " needs " + expectedLength + " bytes, got " + bytes.length);
    }
    this.bytes = bytes.clone();
    this.hash = Arrays.hashCode(bytes);
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
    return hash;
  }

  @Override
  public String toString() {
    return hex();
  }
}
