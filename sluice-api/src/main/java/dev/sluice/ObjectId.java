package dev.sluice;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Identifies an object: the id of the task that created it and a return index (20 bytes). Index 0
 * is never valid. A normal task with {@code n} returns owns indices {@code 1..n}; a {@code put} is
 * the {@code k}-th put of its task and uses an index above {@link #PUT_INDEX_BASE}.
 */
public final class ObjectId extends BaseId {
  /** Length in bytes. */
  public static final int LENGTH = TaskId.LENGTH + 4;

  /** Indices of {@code put} objects start above this value. */
  public static final int PUT_INDEX_BASE = 1 << 30;

  private static final VarHandle INTS =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

  private ObjectId(byte[] bytes) {
    super(bytes, LENGTH);
  }

  private ObjectId(byte[] bytes, boolean owned) {
    super(bytes, LENGTH, owned);
  }

  /** The object at {@code index} (1-based) of {@code task}. */
  public static ObjectId of(TaskId task, int index) {
    if (index <= 0) {
      throw new IllegalArgumentException("object index must be >= 1, got " + index);
    }
    byte[] b = new byte[LENGTH];
    System.arraycopy(task.rawBytes(), 0, b, 0, TaskId.LENGTH);
    INTS.set(b, TaskId.LENGTH, index);
    return new ObjectId(b, true);
  }

  /** Parses {@link #toBytes()} output. */
  public static ObjectId fromBytes(byte[] bytes) {
    return new ObjectId(bytes);
  }

  /** The task that created (or will create) this object. */
  public TaskId taskId() {
    return TaskId.fromBytes(Arrays.copyOf(rawBytes(), TaskId.LENGTH));
  }

  /** The return index within the task. */
  public int index() {
    return (int) INTS.get(rawBytes(), TaskId.LENGTH);
  }

  /** True if this object was created by {@code Sluice.put}. */
  public boolean isPut() {
    return index() > PUT_INDEX_BASE;
  }

  @Override
  public String toString() {
    return taskId().hex() + "/" + index();
  }
}
