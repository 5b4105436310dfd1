package com.example.allowed;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serial;
import java.io.Serializable;

/** Test-only: a Serializable user class with custom writeObject/readObject hooks. */
public class CustomSerialized implements Serializable {
  @Serial private static final long serialVersionUID = 1L;
  private String value;
  private transient int readCount;

  public CustomSerialized(String value) {
    this.value = value;
  }

  public String value() {
    return value;
  }

  public int readCount() {
    return readCount;
  }

  @Serial
  private void writeObject(ObjectOutputStream out) throws IOException {
    out.defaultWriteObject();
    out.writeInt(value.length());
  }

  @Serial
  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    if (in.readInt() != value.length()) {
      throw new IOException("length mismatch");
    }
    readCount++;
  }
}
