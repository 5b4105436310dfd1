package dev.sluice.runtime.owner;

import dev.sluice.ObjectId;
import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.SluiceException;
import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The runtime's {@link ObjectRefGenerator}: the consumer's view of an {@link ObjectRefStream}. When
 * the generator becomes unreachable without {@link #close()}, a {@link Cleaner} deletes the stream,
 * so a producer blocked on backpressure is never left waiting for a consumer that is gone.
 * Thread-safe.
 */
public final class ObjectRefGeneratorImpl<T> implements ObjectRefGenerator<T> {
  private static final Cleaner CLEANER =
      Cleaner.create(Thread.ofPlatform().daemon().name("sluice-generator-cleaner").factory());

  private final ObjectRefStream stream;

  /** The generator ref: held so that {@link #completed()} works for as long as this lives. */
  private final ObjectRef<Void> completed;

  private final Cleaner.Cleanable cleanable;
  private volatile boolean finished;
  private final Consumer<Boolean> blocking;

  /**
   * A generator over {@code stream} whose outcome is {@code completed}, a ref made before the task
   * was recorded (so a task that finishes at once still finds it referenced and keeps its outcome),
   * whose blocking waits are reported to {@code blocking} (true on entry, false on exit), so a
   * worker lends its CPU while a task waits for an item. Made by {@link
   * TaskManager#addStreamingTask}.
   */
  ObjectRefGeneratorImpl(
      ObjectRefStream stream, ObjectRefImpl<Void> completed, Consumer<Boolean> blocking) {
    this.blocking = blocking;
    this.stream = stream;
    this.completed = completed;
    // The cleaning action must not capture this object, only the stream.
    this.cleanable = CLEANER.register(this, new DeleteStream(stream));
  }

  private record DeleteStream(ObjectRefStream stream) implements Runnable {
    @Override
    public void run() {
      stream.delete();
    }
  }

  @Override
  public boolean hasNext() {
    ObjectRefStream.State s = await(-1);
    if (s == ObjectRefStream.State.END) {
      finished = true;
      return false;
    }
    return true;
  }

  @Override
  public ObjectRef<T> next() {
    while (true) {
      ObjectRef<T> ref = take();
      if (ref != null) {
        return ref;
      }
      if (await(-1) == ObjectRefStream.State.END) {
        finished = true;
        throw new NoSuchElementException("the stream of generator " + id() + " has ended");
      }
    }
  }

  @Override
  public Optional<ObjectRef<T>> next(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      ObjectRef<T> ref = take();
      if (ref != null) {
        return Optional.of(ref);
      }
      ObjectRefStream.State s = await(Math.max(0, deadline - System.nanoTime()));
      if (s == ObjectRefStream.State.END) {
        finished = true;
        throw new NoSuchElementException("the stream of generator " + id() + " has ended");
      }
      if (s == ObjectRefStream.State.NOT_READY) {
        return Optional.empty();
      }
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public CompletableFuture<ObjectRef<T>> nextAsync() {
    CompletableFuture<ObjectRef<T>> out = new CompletableFuture<>();
    stream
        .pollAsync()
        .whenComplete(
            (ref, e) -> {
              if (e != null) {
                out.completeExceptionally(e);
              } else if (ref == null) {
                finished = true;
                out.completeExceptionally(
                    new NoSuchElementException("the stream of generator " + id() + " has ended"));
              } else {
                out.complete((ObjectRef<T>) ref);
              }
            });
    return out;
  }

  @SuppressWarnings("unchecked")
  private ObjectRef<T> take() {
    return (ObjectRef<T>) stream.poll();
  }

  private ObjectRefStream.State await(long timeoutNanos) {
    if (timeoutNanos == 0) {
      return awaitUnreported(0);
    }
    blocking.accept(true);
    try {
      return awaitUnreported(timeoutNanos);
    } finally {
      blocking.accept(false);
    }
  }

  private ObjectRefStream.State awaitUnreported(long timeoutNanos) {
    try {
      return stream.await(timeoutNanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SluiceException("interrupted while waiting for the next item of generator " + id());
    }
  }

  /** Completes once {@link #nextReady()} would be true. */
  public CompletableFuture<Void> whenReady() {
    return stream.whenReady();
  }

  @Override
  public ObjectRef<Void> completed() {
    return completed;
  }

  @Override
  public boolean nextReady() {
    return stream.peek() != ObjectRefStream.State.NOT_READY;
  }

  @Override
  public boolean isFinished() {
    return finished;
  }

  @Override
  public ObjectId id() {
    return stream.generatorId();
  }

  @Override
  public void close() {
    cleanable.clean();
  }

  @Override
  public String toString() {
    return "ObjectRefGenerator(" + id() + ")";
  }
}
