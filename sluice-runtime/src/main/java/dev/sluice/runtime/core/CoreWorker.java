package dev.sluice.runtime.core;

import com.google.protobuf.ByteString;
import dev.sluice.ActorHandle;
import dev.sluice.ActorOptions;
import dev.sluice.AwaitResult;
import dev.sluice.Awaitable;
import dev.sluice.ClusterState;
import dev.sluice.GeneratorCaller;
import dev.sluice.ObjectBuffer;
import dev.sluice.ObjectId;
import dev.sluice.ObjectRef;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.ObjectStoreStats;
import dev.sluice.RuntimeContext;
import dev.sluice.RuntimeStartupException;
import dev.sluice.SluiceRuntime;
import dev.sluice.TaskId;
import dev.sluice.TaskOptions;
import dev.sluice.WaitResult;
import dev.sluice.WorkerId;
import dev.sluice.runtime.actor.ActorTableClient;
import dev.sluice.runtime.actor.Actors;
import dev.sluice.runtime.actor.GrpcActorTableClient;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.common.TaskContext;
import dev.sluice.runtime.executor.TaskReceiver;
import dev.sluice.runtime.metrics.SluiceMetrics;
import dev.sluice.runtime.objectstore.SharedMemoryClient;
import dev.sluice.runtime.objectstore.SharedMemoryStore;
import dev.sluice.runtime.owner.FunctionDescriptors;
import dev.sluice.runtime.owner.MemoryStore;
import dev.sluice.runtime.owner.NormalTaskSubmitter;
import dev.sluice.runtime.owner.ObjectRefGeneratorImpl;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.owner.SharedCreditSlots;
import dev.sluice.runtime.owner.TaskCanceller;
import dev.sluice.runtime.owner.TaskManager;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.serial.ObjectSerializer;
import dev.sluice.runtime.state.StateClient;
import dev.sluice.runtime.state.TaskEvents;
import dev.sluice.runtime.storerpc.StoreLocations;
import java.io.IOException;
import java.io.Serializable;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The library inside every driver and worker process (DESIGN "Core worker"): this process's {@link
 * SluiceRuntime}. It wires the parts and delegates to them. Owner side: submits tasks ({@link
 * TaskSpecFactory}, the submitter), owns their return objects and {@code put}s ({@link
 * ObjectEncoder}), reads objects ({@link ObjectResolver}, {@link Waiter}) and answers other
 * processes asking for those objects ({@link CoreWorkerGrpcService}, which also owns the process's
 * server). Actor creation and calls go through {@link ActorSubmission}; a worker's idle garbage
 * collection is {@link IdleBorrowCollector}. gRPC stays in the adaptors: {@link
 * CoreWorkerGrpcService} (server side), {@link CoreWorkerClient}, {@link NodeManagerClient} and
 * {@link NodeWatchStream}. Executor side (in workers): runs pushed tasks through its {@link
 * TaskReceiver}, which reaches this process through {@link ExecutorEnvironment}.
 *
 * <p>Threads: API calls come from user threads; RPC handlers and RPC callbacks run on transport
 * threads and never block; one timer thread serves the submitter and the idle collection; workers
 * have one task execution thread. The current task is an inheritable thread-local ({@link
 * CurrentTask}), so threads a task starts submit as that task.
 */
public final class CoreWorker implements SluiceRuntime {
  private static final Duration STATE_DEADLINE = Duration.ofSeconds(30);

  private final CoreWorkerOptions options;
  private final ChannelPool channels;
  private final ObjectSerializer serializer;
  private final MemoryStore store = new MemoryStore();
  private final ReferenceCounter refs;
  private final SharedMemoryClient sharedStore;
  private final TaskManager taskManager;
  private final ScheduledExecutorService timers;
  private final CoreWorkerGrpcService service;
  private final Address self;
  private final NormalTaskSubmitter submitter;
  private final TaskCanceller canceller;
  private final ActorSubmission actorCalls;
  private final NodeWatcher nodeWatcher;
  private final TaskReceiver receiver;

  /** Workers only: runs queued children of a blocked task inline (null in drivers). */
  private final JoinHelper joins;

  private final CurrentTask currentTask;
  private final RefGuard guard;
  private final ObjectEncoder encoder;
  private final TaskSpecFactory specs;
  private final ObjectResolver objects;
  private final Waiter waiter;
  private final ExecutorEnvironment env;
  private final TaskEvents taskEvents;
  private final SharedCreditSlots sharedCredit;
  private volatile boolean shutdown;

  /** Starts a core worker: binds its RPC server and, in a worker, its execution thread. */
  public CoreWorker(CoreWorkerOptions options, RpcFactory rpc) {
    this(options, rpc, null);
  }

  /**
   * Starts a core worker in the process that hosts its node manager, whose object store it then
   * uses directly ({@code localStore}; null: through the node manager's RPCs).
   */
  public CoreWorker(CoreWorkerOptions options, RpcFactory rpc, SharedMemoryStore localStore) {
    this(options, rpc, localStore, SluiceMetrics.disabled());
  }

  /** As above, counting what it owns and executes in {@code metrics}. */
  public CoreWorker(
      CoreWorkerOptions options,
      RpcFactory rpc,
      SharedMemoryStore localStore,
      SluiceMetrics metrics) {
    this.options = options;
    this.channels = new ChannelPool(rpc, options.nodeId());
    this.serializer = CoreWorkerWiring.serializer(options, this::refTable);
    FunctionDescriptors functions = new FunctionDescriptors(serializer);
    this.timers =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("sluice-core-worker-timer").factory());
    this.currentTask =
        new CurrentTask(options.isWorker() ? null : TaskContext.forDriver(options.jobId()));
    // The receiver and reference table need this server's address: they join it below.
    this.service = new CoreWorkerGrpcService(store, options.workerId());
    try {
      service.start(rpc, options.bindHost(), options.sessionDir(), options.isWorker());
    } catch (IOException e) {
      timers.shutdownNow();
      throw new RuntimeStartupException("core worker could not bind " + options.bindHost(), e);
    }
    this.self =
        Addresses.of(
            options.workerId(),
            options.nodeId(),
            options.bindHost(),
            service.port(),
            service.localSocket());
    // Carried by every task this process submits: its strings are encoded to UTF-8 once, here.
    self.getHostBytes();
    self.getLocalSocketBytes();
    this.sharedStore = CoreWorkerWiring.sharedStore(options, channels, localStore);
    this.nodeWatcher = new NodeWatcher(channels, options.controlTarget(), timers);
    NodeManagerClient nodeManagers = new NodeManagerClient(channels);
    CoreWorkerClient owners = new CoreWorkerClient(channels);
    SharedCopies copies = new SharedCopies(sharedStore, nodeManagers, self, nodeWatcher);
    this.refs = new ReferenceCounter(self, store, owners::updateBorrowers, copies::deleteShared);
    this.taskManager =
        new TaskManager(
            store,
            refs,
            copies::isLost,
            copies::deleteCopyAt,
            (id, where) -> sharedStore.prefetch(id, StoreLocations.of(where)),
            metrics);
    this.taskEvents = CoreWorkerWiring.taskEvents(options, channels);
    taskManager.setTaskEvents(taskEvents);
    this.sharedCredit = SharedCreditSlots.nextTo(self.getLocalSocket());
    taskManager.setSharedCredit(sharedCredit);
    this.guard = new RefGuard(refs, self);
    ObjectFutures futures = new ObjectFutures(store, refs, owners, guard, options.workerId());
    this.submitter =
        new NormalTaskSubmitter(
            taskManager,
            channels,
            self,
            futures::resolve,
            timers,
            nodeManagers::reachable,
            new NormalTaskSubmitter.Options(
                options.nodeManagerTarget(),
                options.maxTasksInFlightPerWorker(),
                options.leaseIdleTimeout(),
                options.maxMessageBytes(),
                options.unschedulableTimeout()));
    // One client of the control service's actor table for the process: its actors and, in a
    // worker, the actor it hosts.
    ActorTableClient actorTable = new GrpcActorTableClient(channels, options.controlTarget());
    Actors actors =
        CoreWorkerWiring.actors(options, actorTable, channels, taskManager, futures, self, timers);
    taskManager.setResubmitter(
        spec -> {
          if (spec.hasActorCall()) {
            actors.resubmit(spec);
          } else {
            submitter.submit(spec);
          }
        });
    this.canceller = new TaskCanceller(taskManager, submitter, timers, options.cancelGracePeriod());
    nodeWatcher.onNodeDeath(
        n -> {
          submitter.onNodeDied(n.getNodeId());
          refs.removeBorrowersOnNode(n.getNodeId());
        });
    if (!options.isWorker()) {
      nodeWatcher.start(); // a worker starts it once registered: see startWatchingNodes
    }
    LargeArrayCollector largeArrays = LargeArrayCollector.forThisJvm();
    this.encoder =
        new ObjectEncoder(
            refs,
            serializer,
            sharedStore,
            options.inlineThresholdBytes(),
            options.maxMessageBytes(),
            largeArrays);
    this.specs =
        new TaskSpecFactory(functions, refs, encoder, currentTask, self, taskEvents::sample);
    this.actorCalls = new ActorSubmission(specs, refs, taskManager, actors, self, this::blocked);
    this.env =
        new ExecutorEnvironment(
            options,
            self,
            currentTask,
            encoder,
            refs,
            nodeManagers,
            actorTable,
            () -> shutdown,
            this::blocked,
            ref -> get(ref, null),
            taskEvents,
            metrics);
    this.receiver = new TaskReceiver(env, serializer);
    service.serve(receiver, refs);
    this.joins =
        options.isWorker()
            ? new JoinHelper(
                submitter, receiver, taskManager, ByteString.copyFrom(options.nodeId().toBytes()))
            : null;
    this.waiter = new Waiter(joins, currentTask, guard, futures, this::blocked, options.isWorker());
    this.objects =
        new ObjectResolver(
            futures,
            waiter,
            guard,
            taskManager,
            refs,
            sharedStore,
            serializer,
            options.serializationAllowList(),
            largeArrays);
    if (options.isWorker()) {
      submitter.setLeaseRequestDelay(JoinHelper.LEASE_REQUEST_DELAY);
      receiver.start();
      new IdleBorrowCollector(receiver, refs, () -> shutdown).scheduleOn(timers);
    }
  }

  /**
   * Workers: subscribes to node deaths, once registered with the node manager, so that its
   * connection to the control service stays off the path to the first task. The subscription begins
   * with every node's state, so a death before it is not missed.
   */
  public void startWatchingNodes() {
    nodeWatcher.start();
  }

  /** Pushes this process's {@code metrics} to its node manager, about once a second. */
  public void reportMetricsToNode(SluiceMetrics metrics) {
    MetricsReportClient.schedule(
        channels.get(options.nodeManagerTarget()), options.workerId(), metrics, timers);
  }

  /** The port of this process's core worker server. */
  public int port() {
    return service.port();
  }

  /** The Unix domain socket the server also listens on, for processes of this node; or empty. */
  public String localSocket() {
    return service.localSocket();
  }

  /** This process's address, as owner of the objects it creates. */
  public Address address() {
    return self;
  }

  /** The owner's task table, for tests and diagnostics. */
  public int numPendingTasks() {
    return taskManager.numPending();
  }

  // ------------------------------------------------------------------ SluiceRuntime

  @Override
  public <R> ObjectRef<R> submitTask(Serializable function, Object[] args, TaskOptions opts) {
    checkRunning();
    TaskSpecFactory.NewSpec built = specs.task(function, args, opts);
    TaskSpec spec = built.spec();
    ObjectId returnId = ObjectId.of(TaskId.fromBytes(spec.getTaskId().toByteArray()), 1);
    ObjectRef<R> ref = refs.newRef(returnId, self);
    taskManager.add(spec, built.argRefs(), returnId);
    // Large arguments became objects of their own, held from now on by the task.
    Reference.reachabilityFence(built.argObjects());
    submitter.submit(spec);
    return ref;
  }

  @Override
  public <T> ObjectRefGenerator<T> submitGenerator(
      Serializable function, Object[] args, TaskOptions opts, GeneratorCaller.Kind kind) {
    checkRunning();
    TaskSpecFactory.NewSpec built = specs.generator(function, args, opts, kind);
    TaskSpec spec = built.spec();
    // The caller-side stream and the generator's own ref exist before the task can run.
    ObjectRefGeneratorImpl<T> gen =
        taskManager.addStreamingTask(spec, self, built.argRefs(), this::blocked);
    Reference.reachabilityFence(built.argObjects());
    submitter.submit(spec);
    return gen;
  }

  @Override
  public <A> ActorHandle<A> createActor(
      Serializable constructor, Object[] args, ActorOptions options) {
    checkRunning();
    return actorCalls.create(constructor, args, options);
  }

  @Override
  public <R> ObjectRef<R> submitActorTask(
      ActorHandle<?> actor,
      Serializable method,
      Object[] args,
      TaskOptions options,
      boolean async) {
    checkRunning();
    return actorCalls.submitTask(actor, method, args, options, async);
  }

  @Override
  public <T> ObjectRefGenerator<T> submitActorGenerator(
      ActorHandle<?> actor,
      Serializable method,
      Object[] args,
      TaskOptions options,
      GeneratorCaller.Kind kind) {
    checkRunning();
    return actorCalls.submitGenerator(actor, method, args, options, kind);
  }

  @Override
  public <A> Optional<ActorHandle<A>> getActor(String name, Class<A> type) {
    checkRunning();
    return actorCalls.get(name, type);
  }

  @Override
  public void kill(ActorHandle<?> actor) {
    checkRunning();
    actorCalls.kill(actor);
  }

  @Override
  public <T> ObjectRef<T> put(T value) {
    checkRunning();
    ObjectId id = currentTask.context().nextPutId();
    ObjectEncoder.Encoded enc =
        encoder.encode(
            id,
            value,
            () -> "put value of type " + (value == null ? "null" : value.getClass().getName()));
    // The nested refs are counted as contained before the caller can drop its own refs to them.
    refs.addContained(enc.nested(), false);
    return refs.adopt(id, self, enc.value(), enc.nested());
  }

  @Override
  public <T> T get(ObjectRef<T> ref, Duration timeout) {
    checkRunning();
    return objects.get(ref, timeout);
  }

  @Override
  public ObjectBuffer getBuffer(ObjectRef<byte[]> ref, Duration timeout) {
    checkRunning();
    return objects.getBuffer(ref, timeout);
  }

  @Override
  public <T> List<T> get(List<ObjectRef<T>> refs, Duration timeout) {
    long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
    List<T> out = new ArrayList<>(refs.size());
    for (ObjectRef<T> r : refs) {
      out.add(
          get(
              r,
              timeout == null
                  ? null
                  : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()))));
    }
    return out;
  }

  @Override
  public <T> WaitResult<T> wait(List<ObjectRef<T>> refs, int numReturns, Duration timeout) {
    AwaitResult<ObjectRef<T>> r = waitAny(refs, numReturns, timeout);
    return new WaitResult<>(r.ready(), r.unready());
  }

  @Override
  public <A extends Awaitable> AwaitResult<A> waitAny(
      List<A> items, int numReturns, Duration timeout) {
    checkRunning();
    return waiter.waitAny(items, numReturns, timeout);
  }

  @Override
  public void cancel(ObjectRef<?> ref, boolean force) {
    checkRunning();
    ObjectRefImpl<?> r = guard.impl(ref);
    if (!guard.isOwnedHere(r)) {
      throw new IllegalArgumentException(
          "only the owner of " + ref + " (the process that " + "submitted its task) can cancel it");
    }
    TaskId task = ref.id().taskId();
    if (!ref.id().isPut() && actorCalls.cancel(task)) {
      return; // an actor call: its actor's worker cancels it (force does not kill an actor)
    }
    if (!ref.id().isPut()) {
      canceller.cancel(task, force);
      if (joins != null) {
        receiver.cancel(task); // it may be running inline in one of this worker's tasks
      }
    }
  }

  @Override
  public RuntimeContext runtimeContext() {
    checkRunning();
    TaskContext ctx = currentTask.context();
    return new RuntimeContextImpl(
        ctx.taskId().jobId(),
        ctx.taskId(),
        ctx.attemptNumber(),
        options.nodeId(),
        options.workerId(),
        options.isWorker(),
        ctx.actorId());
  }

  @Override
  public ObjectStoreStats objectStoreStats() {
    checkRunning();
    SharedMemoryStore.Usage shared = sharedStore.usage();
    return new ObjectStoreStats(
        refs.size(),
        store.size(),
        shared.capacity(),
        shared.used(),
        shared.objects(),
        shared.spilledBytes(),
        shared.spilledObjects());
  }

  @Override
  public ClusterState state() {
    checkRunning();
    return new StateClient(
        channels.get(options.controlTarget()), options.controlTarget(), STATE_DEADLINE);
  }

  /** Records at most {@code perSecond} new task attempts' events per second (TaskEventSampling). */
  public void limitTaskEvents(int perSecond) {
    taskEvents.limitPerSecond(perSecond);
  }

  /** Stops recording task events in this process (observability off). */
  public void disableTaskEvents() {
    taskEvents.disable();
  }

  @Override
  public void shutdown() {
    if (shutdown) {
      return;
    }
    shutdown = true;
    taskEvents.close();
    // First: the workers of this process's owned actors stop with it.
    actorCalls.shutdown();
    nodeWatcher.close();
    submitter.close();
    refs.close();
    taskManager.failAll(
        Errors.error(
            ErrorType.OWNER_DIED,
            "Sluice was shut down in the process"
                + " owning this object ("
                + env.location()
                + ") before the task finished"));
    receiver.stop();
    sharedCredit.close();
    service.shutdown();
    timers.shutdownNow();
    // Before the channels: closing the store client tells the node manager its extents are free.
    sharedStore.close();
    channels.close();
  }

  /** Worker {@code dead} exited: what it borrowed from this process is released. */
  public void onWorkerDied(WorkerId dead) {
    refs.removeBorrower(ByteString.copyFrom(dead.toBytes()));
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Tells the node manager that this worker's task is blocked waiting for objects, so its CPU can
   * be lent to the tasks it waits for (which would otherwise deadlock a full node).
   */
  private void blocked(boolean isBlocked) {
    if (options.isWorker()) {
      receiver.taskBlocked(isBlocked);
    }
  }

  /** The reference table, for the serializer's codec (made before the table). */
  private ReferenceCounter refTable() {
    return refs;
  }

  private void checkRunning() {
    if (shutdown) {
      throw new IllegalStateException("Sluice has been shut down");
    }
  }
}
