package dev.sluice.runtime.driver;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.sluice.ActorHandle;
import dev.sluice.ActorOptions;
import dev.sluice.AwaitResult;
import dev.sluice.Awaitable;
import dev.sluice.ClusterState;
import dev.sluice.GeneratorCaller;
import dev.sluice.ObjectBuffer;
import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.ObjectStoreStats;
import dev.sluice.RuntimeContext;
import dev.sluice.SluiceRuntime;
import dev.sluice.TaskOptions;
import dev.sluice.WaitResult;
import dev.sluice.runtime.core.CoreWorker;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A driver's {@link SluiceRuntime}: the API calls go to the driver's core worker; subclasses own
 * what else the driver started ({@link EmbeddedCluster}) or connected to ({@link ClusterDriver}).
 * Stopping runs once, from {@link #shutdown()} or from a JVM shutdown hook if the program exits
 * without it.
 */
abstract class DriverRuntime implements SluiceRuntime {
  protected final CoreWorker driver;
  private final Thread shutdownHook;

  @GuardedBy("this")
  private boolean stopped;

  DriverRuntime(CoreWorker driver) {
    this.driver = driver;
    this.shutdownHook = new Thread(this::stop, "sluice-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** Stops what the subclass owns, after the driver's core worker has stopped. */
  protected abstract void stopComponents();

  @Override
  public ClusterState state() {
    return driver.state();
  }

  @Override
  public <R> ObjectRef<R> submitTask(Serializable function, Object[] args, TaskOptions options) {
    return driver.submitTask(function, args, options);
  }

  @Override
  public <T> ObjectRefGenerator<T> submitGenerator(
      Serializable function, Object[] args, TaskOptions options, GeneratorCaller.Kind kind) {
    return driver.submitGenerator(function, args, options, kind);
  }

  @Override
  public <A> ActorHandle<A> createActor(
      Serializable constructor, Object[] args, ActorOptions options) {
    return driver.createActor(constructor, args, options);
  }

  @Override
  public <R> ObjectRef<R> submitActorTask(
      ActorHandle<?> actor,
      Serializable method,
      Object[] args,
      TaskOptions options,
      boolean async) {
    return driver.submitActorTask(actor, method, args, options, async);
  }

  @Override
  public <T> ObjectRefGenerator<T> submitActorGenerator(
      ActorHandle<?> actor,
      Serializable method,
      Object[] args,
      TaskOptions options,
      GeneratorCaller.Kind kind) {
    return driver.submitActorGenerator(actor, method, args, options, kind);
  }

  @Override
  public <A> Optional<ActorHandle<A>> getActor(String name, Class<A> type) {
    return driver.getActor(name, type);
  }

  @Override
  public void kill(ActorHandle<?> actor) {
    driver.kill(actor);
  }

  @Override
  public <T> ObjectRef<T> put(T value) {
    return driver.put(value);
  }

  @Override
  public <T> T get(ObjectRef<T> ref, Duration timeout) {
    return driver.get(ref, timeout);
  }

  @Override
  public <T> List<T> get(List<ObjectRef<T>> refs, Duration timeout) {
    return driver.get(refs, timeout);
  }

  @Override
  public <T> WaitResult<T> wait(List<ObjectRef<T>> refs, int numReturns, Duration timeout) {
    return driver.wait(refs, numReturns, timeout);
  }

  @Override
  public <A extends Awaitable> AwaitResult<A> waitAny(
      List<A> items, int numReturns, Duration timeout) {
    return driver.waitAny(items, numReturns, timeout);
  }

  @Override
  public void cancel(ObjectRef<?> ref, boolean force) {
    driver.cancel(ref, force);
  }

  @Override
  public RuntimeContext runtimeContext() {
    return driver.runtimeContext();
  }

  @Override
  public ObjectBuffer getBuffer(ObjectRef<byte[]> ref, Duration timeout) {
    return driver.getBuffer(ref, timeout);
  }

  @Override
  public ObjectStoreStats objectStoreStats() {
    return driver.objectStoreStats();
  }

  @Override
  public void shutdown() {
    stop();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook is running or ran
    }
  }

  private synchronized void stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    driver.shutdown();
    stopComponents();
  }
}
