package dev.sluice;

import static org.awaitility.Awaitility.await;

import dev.sluice.runtime.driver.EmbeddedCluster;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.NodeStatsRequest;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Marker-file plumbing shared by the streaming generator tests. Generators run in worker JVMs, so
 * they talk to the test through files in a directory the test owns: they leave markers to show
 * progress, and wait for markers the test creates. Every wait on the worker side also gives up when
 * the directory disappears (JUnit deleted the test's {@code @TempDir}), so a generator left blocked
 * by a failed test ends instead of holding a worker for the rest of the class.
 */
final class GeneratorTestFiles {
  /** Longest a generator waits for a marker before giving up. */
  static final long WORKER_WAIT_MILLIS = 60_000;

  private GeneratorTestFiles() {}

  /**
   * Waits until the embedded node has {@code n} workers registered and idle, so that worker JVM
   * start-up (slow on a loaded machine) does not count against the time limits of the tests.
   */
  static void awaitIdleWorkers(int n) {
    EmbeddedCluster cluster = (EmbeddedCluster) Sluice.runtime();
    RpcFactory rpc = cluster.rpc();
    ManagedChannel ch = rpc.newChannel(cluster.nodeManager().target());
    try {
      await("" + n + " idle workers")
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () ->
                  NodeManagerServiceGrpc.newBlockingStub(ch)
                          .withDeadlineAfter(10, TimeUnit.SECONDS)
                          .getNodeStats(NodeStatsRequest.getDefaultInstance())
                          .getWorkersList()
                          .stream()
                          .filter(w -> w.getState().equals("IDLE"))
                          .count()
                      >= n);
    } finally {
      RpcFactory.shutdownQuietly(ch);
    }
  }

  /** Creates (or overwrites) {@code dir/name}, containing this process's pid. */
  static void touch(Path dir, String name) {
    writeAtomically(dir.resolve(name), Long.toString(ProcessHandle.current().pid()));
  }

  /** Writes {@code content} to {@code target} so that a reader never sees a partial file. */
  static void writeAtomically(Path target, String content) {
    try {
      Path tmp =
          target.resolveSibling(
              target.getFileName() + "." + Thread.currentThread().threadId() + ".tmp");
      Files.writeString(tmp, content, StandardCharsets.UTF_8);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static boolean exists(Path dir, String name) {
    return Files.exists(dir.resolve(name));
  }

  static String read(Path dir, String name) {
    try {
      return Files.readString(dir.resolve(name), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Worker side: waits until {@code dir/name} exists. Returns false if the directory vanished or
   * the wait timed out. An interrupt (cancellation) keeps the thread's interrupt flag set and
   * surfaces as an unchecked exception, as a well-behaved iterator does.
   */
  static boolean awaitMarker(Path dir, String name) {
    long deadline = System.currentTimeMillis() + WORKER_WAIT_MILLIS;
    while (!Files.exists(dir.resolve(name))) {
      if (!Files.isDirectory(dir) || System.currentTimeMillis() > deadline) {
        return false;
      }
      sleep(5);
    }
    return true;
  }

  /** Worker side: sleeps until the directory vanishes or the wait limit passes (to be killed). */
  static void stall(Path dir) {
    long deadline = System.currentTimeMillis() + WORKER_WAIT_MILLIS;
    while (Files.isDirectory(dir) && System.currentTimeMillis() < deadline) {
      sleep(20);
    }
  }

  /** Sleeps; an interrupt keeps the interrupt flag set and throws an unchecked exception. */
  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /**
   * Yields {@code 0..n-1}, each only once the test created {@code go-k}, and ends only once the
   * test created {@code go-n}; ends early if the directory disappears.
   */
  static final class GatedIterator implements Iterator<Integer> {
    private final Path dir;
    private final int n;
    private int k;
    private Boolean next;

    GatedIterator(Path dir, int n) {
      this.dir = dir;
      this.n = n;
    }

    @Override
    public boolean hasNext() {
      if (next == null) {
        next = awaitMarker(dir, "go-" + k) && k < n;
      }
      return next;
    }

    @Override
    public Integer next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      next = null;
      return k++;
    }
  }

  /**
   * A publisher of {@code 0..n-1} that emits only what was requested, from its own thread. When a
   * directory is given, it creates {@code yielded-k} before emitting item {@code k}, records the
   * total requested so far in {@code requested} after every {@code request(m)}, and creates {@code
   * cancelled} when its subscription is cancelled. It signals {@code onError} instead of emitting
   * item {@code failAt}, and stalls (creating {@code stalled}) instead of emitting item {@code
   * stallAt} until cancelled; -1 disables either.
   */
  static final class OnRequestPublisher implements Flow.Publisher<Integer> {
    private final int n;
    private final Path dir;
    private final int failAt;
    private final int stallAt;

    OnRequestPublisher(int n, Path dir) {
      this(n, dir, -1, -1);
    }

    OnRequestPublisher(int n, Path dir, int failAt, int stallAt) {
      this.n = n;
      this.dir = dir;
      this.failAt = failAt;
      this.stallAt = stallAt;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super Integer> subscriber) {
      Object lock = new Object();
      long[] demand = new long[1];
      long[] totalRequested = new long[1];
      AtomicBoolean cancelled = new AtomicBoolean();
      subscriber.onSubscribe(
          new Flow.Subscription() {
            @Override
            public void request(long m) {
              synchronized (lock) {
                demand[0] = saturatedAdd(demand[0], m);
                totalRequested[0] = saturatedAdd(totalRequested[0], m);
                if (dir != null && Files.isDirectory(dir)) {
                  writeAtomically(dir.resolve("requested"), Long.toString(totalRequested[0]));
                }
                lock.notifyAll();
              }
            }

            @Override
            public void cancel() {
              if (!cancelled.getAndSet(true) && dir != null && Files.isDirectory(dir)) {
                touch(dir, "cancelled");
              }
              synchronized (lock) {
                lock.notifyAll();
              }
            }
          });
      Thread.ofPlatform()
          .daemon()
          .name("on-request-publisher")
          .start(
              () -> {
                try {
                  for (int k = 0; k < n; k++) {
                    if (k == failAt) {
                      subscriber.onError(
                          new IllegalStateException("publisher failed at item " + k));
                      return;
                    }
                    if (k == stallAt) {
                      touch(dir, "stalled");
                      long deadline = System.currentTimeMillis() + WORKER_WAIT_MILLIS;
                      synchronized (lock) {
                        while (!cancelled.get()
                            && Files.isDirectory(dir)
                            && System.currentTimeMillis() < deadline) {
                          lock.wait(20);
                        }
                      }
                      return;
                    }
                    synchronized (lock) {
                      while (demand[0] == 0 && !cancelled.get()) {
                        lock.wait();
                      }
                      if (cancelled.get()) {
                        return;
                      }
                      demand[0]--;
                    }
                    if (dir != null) {
                      if (!Files.isDirectory(dir)) {
                        return;
                      }
                      touch(dir, "yielded-" + k);
                    }
                    subscriber.onNext(k);
                  }
                  subscriber.onComplete();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                  subscriber.onError(e);
                }
              });
    }

    private static long saturatedAdd(long a, long b) {
      long s = a + b;
      return s < 0 ? Long.MAX_VALUE : s;
    }
  }
}
