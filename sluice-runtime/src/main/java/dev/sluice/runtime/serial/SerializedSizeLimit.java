package dev.sluice.runtime.serial;

import dev.sluice.ObjectTooLargeException;

/**
 * Recognises a value whose serialized form outgrew the largest buffer the JVM can allocate (a Java
 * array, just under 2 GiB): Fory's write buffer then fails with an index error from an {@code
 * arraycopy}, which this turns into an {@link ObjectTooLargeException} that says what happened and
 * what to do. Stateless and thread-safe.
 */
final class SerializedSizeLimit {
  /** The largest serialized value: Fory's buffer is one byte array, at most this long. */
  static final long MAX_BYTES = Integer.MAX_VALUE - 8;

  private static final String BUFFER_CLASS = "org.apache.fory.memory.MemoryBuffer";
  private static final int MAX_CAUSES = 64;
  private static final int FRAMES_TO_CHECK = 4;

  private SerializedSizeLimit() {}

  /**
   * The exception to throw instead of {@code t} when serializing {@code what} failed because its
   * serialized form would exceed {@link #MAX_BYTES}, or null if {@code t} is another failure.
   */
  static ObjectTooLargeException exceeded(String what, Throwable t) {
    Throwable c = t;
    for (int i = 0; c != null && i < MAX_CAUSES; c = c.getCause(), i++) {
      if ((c instanceof IndexOutOfBoundsException || c instanceof NegativeArraySizeException)
          && thrownByWriteBuffer(c)) {
        return new ObjectTooLargeException(
            "Cannot serialize "
                + what
                + ": its serialized form "
                + "exceeds 2 GiB ("
                + MAX_BYTES
                + " bytes), the largest single value Sluice can "
                + "carry; split it into several values (several puts, task returns or generator "
                + "items)",
            t);
      }
    }
    return null;
  }

  private static boolean thrownByWriteBuffer(Throwable t) {
    StackTraceElement[] frames = t.getStackTrace();
    for (int i = 0; i < Math.min(FRAMES_TO_CHECK, frames.length); i++) {
      if (BUFFER_CLASS.equals(frames[i].getClassName())) {
        return true;
      }
    }
    return false;
  }
}
