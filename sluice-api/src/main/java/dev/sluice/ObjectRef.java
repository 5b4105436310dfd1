package dev.sluice;

import java.time.Duration;

/**
 * A reference to an object in the cluster: a task's return value or a {@code put} value. The
 * process that created it (the owner) tracks its value and failures. A ref may be passed to other
 * tasks as an argument (it is resolved to its value first) or inside other values (it stays a ref).
 * Refs are cheap handles; getting the value may block until the producing task finishes.
 *
 * @param <T> the type of the value
 */
public interface ObjectRef<T> extends Awaitable {
  /**
   * Blocks until the value is available and returns it.
   *
   * @throws TaskException if the producing task threw
   * @throws WorkerCrashedException if the producing task's worker died and no retries remained
   */
  T get();

  /**
   * Like {@link #get()}, but waits at most {@code timeout}.
   *
   * @throws GetTimeoutException if the value is not available in time
   */
  T get(Duration timeout);

  /** The object's id. */
  ObjectId id();

  /**
   * Gives up this handle now instead of when the garbage collector finds it unreachable: the Java
   * counterpart of dropping a ref in Ray's Python API, where reference counting frees it at once. A
   * large object (such as a consumed streamed item) whose last handle is released is freed from
   * shared memory right away, rather than after the next collection of this process's heap. Other
   * handles to the same object (copies passed to tasks or nested in values, or deserialized
   * elsewhere) are unaffected. Idempotent.
   *
   * <p>After release, {@link #get()} throws {@link IllegalStateException}, and so does passing this
   * handle to a task or serializing it in a value. A value already taken with {@code get()} stays
   * valid: it is a copy.
   */
  void release();
}
