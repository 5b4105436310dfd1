package dev.sluice.runtime.core;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.sluice.AwaitResult;
import dev.sluice.Awaitable;
import dev.sluice.GeneratorCaller;
import dev.sluice.ObjectId;
import dev.sluice.ObjectRefGenerator;
import dev.sluice.ObjectBuffer;
import dev.sluice.ObjectLostException;
import dev.sluice.ObjectRef;
import dev.sluice.runtime.objectstore.HeapObjectBuffer;
import dev.sluice.runtime.objectstore.SharedMemoryClient;
import dev.sluice.runtime.rpc.proto.ObjectStoreStatsReply;
import dev.sluice.runtime.rpc.proto.SharedMemoryLocation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import dev.sluice.ObjectStoreStats;
import dev.sluice.ObjectTooLargeException;
import dev.sluice.RuntimeContext;
import dev.sluice.RuntimeStartupException;
import dev.sluice.SerializationException;
import dev.sluice.SluiceException;
import dev.sluice.SluiceRuntime;
import dev.sluice.TaskCancelledException;
import dev.sluice.TaskId;
import dev.sluice.TaskOptions;
import dev.sluice.WaitResult;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.common.MessageLimit;
import dev.sluice.runtime.common.TaskContext;
import dev.sluice.runtime.executor.TaskReceiver;
import dev.sluice.runtime.owner.FunctionDescriptors;
import dev.sluice.runtime.owner.MemoryStore;
import dev.sluice.runtime.owner.NormalTaskSubmitter;
import dev.sluice.runtime.owner.ObjectRefGeneratorImpl;
import dev.sluice.runtime.owner.ObjectRefStream;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.owner.TaskCanceller;
import dev.sluice.runtime.owner.TaskManager;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.Callbacks;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.CancelTaskReply;
import dev.sluice.runtime.rpc.proto.CollectGarbageReply;
import dev.sluice.runtime.rpc.proto.CollectGarbageRequest;
import dev.sluice.runtime.rpc.proto.WorkersDiedReply;
import dev.sluice.runtime.rpc.proto.WorkersDiedRequest;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.proto.CancelTaskRequest;
import dev.sluice.runtime.rpc.proto.CoreWorkerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.GeneratorKind;
import dev.sluice.runtime.rpc.proto.GetObjectReply;
import dev.sluice.runtime.rpc.proto.GetObjectRequest;
import dev.sluice.runtime.rpc.proto.NodeManagerServiceGrpc;
import dev.sluice.runtime.rpc.proto.ObjectRefInfo;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.TaskArg;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.rpc.proto.BorrowerUpdate;
import dev.sluice.runtime.rpc.proto.UpdateBorrowersReply;
import dev.sluice.runtime.rpc.proto.UpdateBorrowersRequest;
import dev.sluice.runtime.rpc.proto.WorkerBlockedRequest;
import dev.sluice.runtime.serial.ObjectSerializer;
import dev.sluice.runtime.serial.RefCodec;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.Serializable;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The library inside every driver and worker process (DESIGN "Core worker"). Owner side: submits
 * tasks, owns their return objects and {@code put}s, and answers other processes asking for those
 * objects. Executor side (in workers): runs pushed tasks through its {@link TaskReceiver}.
 *
 * <p>Threads: API calls come from user threads; RPC handlers and RPC callbacks run on transport
 * threads and never block; one timer thread serves the submitter; workers have one task
 * execution thread. The current task is an inheritable thread-local, so threads a task starts
 * submit as that task.
 */
public final class CoreWorker implements SluiceRuntime, TaskReceiver.ExecutionEnv {

  private static final Logger log = LoggerFactory.getLogger(CoreWorker.class);
  private static final Duration BORROW_REGISTRATION_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration IDLE_GC_PERIOD = Duration.ofSeconds(2);

  private final CoreWorkerOptions options;
  private final ChannelPool channels;
  private final ObjectSerializer serializer;
  private final FunctionDescriptors functions;
  private final MemoryStore store = new MemoryStore();
  private final ReferenceCounter refs;
  private final SharedMemoryClient sharedStore;
  private final TaskManager taskManager;
  private final ScheduledExecutorService timers;
  private final Server server;
  private final Address self;
  private final NormalTaskSubmitter submitter;
  private final TaskCanceller canceller;
  private final NodeWatcher nodeWatcher;
  private final TaskReceiver receiver;
  /** Workers only: runs queued children of a blocked task inline (null in drivers). */
  private final JoinHelper joins;
  private final TaskContext driverContext;
  private final InheritableThreadLocal<TaskContext> currentTask = new InheritableThreadLocal<>();
  private volatile boolean shutdown;
  /** Timer thread only: tasks finished when the idle collection last ran. */
  private long tasksAtLastIdleGc = -1;

  /** Starts a core worker: binds its RPC server and, in a worker, its execution thread. */
  public CoreWorker(CoreWorkerOptions options, RpcFactory rpc) {
    this(options, rpc, null);
  }

  /**
   * Starts a core worker in the process that hosts its node manager, whose object store it then
   * uses directly ({@code localStore}; null: through the node manager's RPCs).
   */
  public CoreWorker(CoreWorkerOptions options, RpcFactory rpc,
      dev.sluice.runtime.objectstore.ObjectStoreService localStore) {
    this.options = options;
    this.channels = new ChannelPool(rpc);
    this.serializer = new ObjectSerializer(options.serializationAllowList(), new RefCodec() {
      @Override
      public byte[] encode(ObjectRef<?> ref) {
        ObjectRefImpl<?> r = (ObjectRefImpl<?>) ref;
        refs.noteSerialized(r);
        return r.encode();
      }

      @Override
      public ObjectRef<?> decode(byte[] encoded) {
        return refs.newRef(ObjectRefImpl.decodeInfo(encoded));
      }

      @Override
      public Class<?> refClass() {
        return ObjectRefImpl.class;
      }
    });
    this.functions = new FunctionDescriptors(serializer);
    this.timers = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("sluice-core-worker-timer").factory());
    this.receiver = new TaskReceiver(this, serializer);
    try {
      this.server = rpc.startServer(options.bindHost(), 0, List.of(new Handler()));
    } catch (IOException e) {
      timers.shutdownNow();
      throw new RuntimeStartupException("core worker could not bind " + options.bindHost(), e);
    }
    this.self = Addresses.of(options.workerId(), options.nodeId(), options.bindHost(),
        server.getPort());
    this.sharedStore = localStore != null
        ? SharedMemoryClient.inProcess(options.nodeId(), localStore,
            channels.get(options.nodeManagerTarget()), options.nodeManagerTarget())
        : SharedMemoryClient.map(options.nodeId(), options.objectStoreFile(),
            options.objectStoreCapacity(), channels.get(options.nodeManagerTarget()),
            options.nodeManagerTarget(), ByteString.copyFrom(options.workerId().toBytes()));
    this.refs = new ReferenceCounter(self, store, this::sendBorrowerUpdate, this::deleteShared);
    this.taskManager = new TaskManager(store, refs, this::isLost, this::deleteCopyAt,
        (id, where) -> sharedStore.prefetch(id, where));
    this.submitter = new NormalTaskSubmitter(taskManager, channels, options.nodeManagerTarget(),
        self, this::resolve, timers, options.maxTasksInFlightPerWorker(),
        options.leaseIdleTimeout(), options.maxMessageBytes(), options.unschedulableTimeout(),
        this::nodeManagerReachable);
    taskManager.setResubmitter(submitter::submit);
    this.canceller = new TaskCanceller(taskManager, submitter, timers,
        options.cancelGracePeriod());
    this.nodeWatcher = new NodeWatcher(channels, options.controlTarget(), timers);
    nodeWatcher.onNodeDeath(n -> {
      submitter.onNodeDied(n.getNodeId());
      refs.removeBorrowersOnNode(n.getNodeId());
    });
    if (!options.isWorker()) {
      nodeWatcher.start(); // a worker starts it once registered: see startWatchingNodes
    }
    this.driverContext = options.isWorker() ? null : TaskContext.forDriver(options.jobId());
    this.joins = options.isWorker() ? new JoinHelper(submitter, receiver, taskManager,
        ByteString.copyFrom(options.nodeId().toBytes())) : null;
    if (options.isWorker()) {
      submitter.setLeaseRequestDelay(JoinHelper.LEASE_REQUEST_DELAY);
    }
    if (options.isWorker()) {
      receiver.start();
      timers.scheduleWithFixedDelay(this::collectIdleBorrows, IDLE_GC_PERIOD.toMillis(),
          IDLE_GC_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Workers: subscribes to node deaths, once registered with the node manager, so that its
   * connection to the control service stays off the path to the first task. The subscription
   * begins with every node's state, so a death before it is not missed.
   */
  public void startWatchingNodes() {
    nodeWatcher.start();
  }

  /** The port of this process's core worker server. */
  public int port() {
    return server.getPort();
  }

  /** The owner's task table, for tests and diagnostics. */
  public int numPendingTasks() {
    return taskManager.numPending();
  }

  // ------------------------------------------------------------------ SluiceRuntime

  @Override
  public <R> ObjectRef<R> submitTask(Serializable function, Object[] args, TaskOptions opts) {
    checkRunning();
    NewSpec built = buildSpec(function, args, opts);
    TaskSpec spec = built.spec().build();
    ObjectRef<R> ref = refs.newRef(
        ObjectId.of(TaskId.fromBytes(spec.getTaskId().toByteArray()), 1), self);
    taskManager.add(spec, built.argRefs());
    // Large arguments became objects of their own, held from now on by the task.
    Reference.reachabilityFence(built.argObjects());
    submitter.submit(spec);
    return ref;
  }

  /**
   * A new task's spec (not built yet), every ref among its arguments (top level, nested in
   * values, captured by the function), and the objects its large arguments became, which the
   * caller keeps reachable until the task manager counts {@code argRefs}.
   */
  private record NewSpec(TaskSpec.Builder spec, List<ReferenceCounter.Nested> argRefs,
      List<ObjectRef<?>> argObjects) {}

  /** The spec of a new task of the current task: its id, function, arguments and options. */
  private NewSpec buildSpec(Serializable function, Object[] args, TaskOptions opts) {
    List<ObjectRef<?>> argObjects = new ArrayList<>(0);
    int outer = refs.beginCollect();
    TaskSpec.Builder spec;
    List<ReferenceCounter.Nested> argRefs;
    try {
      spec = specOf(function, args, opts, argObjects);
    } finally {
      argRefs = refs.endCollect(outer);
    }
    return new NewSpec(spec, argRefs, argObjects);
  }

  private TaskSpec.Builder specOf(Serializable function, Object[] args, TaskOptions opts,
      List<ObjectRef<?>> argObjects) {
    TaskContext ctx = context();
    FunctionDescriptors.Described fn = functions.describe(function);
    String name = opts.name() != null ? opts.name() : fn.displayName();
    TaskSpec.Builder spec = TaskSpec.newBuilder()
        .setJobId(ByteString.copyFrom(ctx.taskId().jobId().toBytes()))
        .setParentTaskId(ByteString.copyFrom(ctx.taskId().toBytes()))
        .setFunction(fn.descriptor())
        .setDisplayName(name)
        .setNumReturns(1)
        .setOwner(self)
        .setMaxRetries(opts.maxRetries())
        .setRetryExceptions(opts.retryExceptions());
    for (int i = 0; i < args.length; i++) {
      spec.addArgs(toArg(args[i], i, name, argObjects));
    }
    Map<String, Double> resources = new HashMap<>(opts.resources());
    if (opts.numCpus() > 0) {
      resources.put("CPU", opts.numCpus());
    }
    spec.putAllResources(resources);
    if (opts.nodeAffinity() != null) {
      spec.setNodeAffinity(dev.sluice.runtime.rpc.proto.NodeAffinity.newBuilder()
          .setNodeId(ByteString.copyFrom(opts.nodeAffinity().toBytes()))
          .setSoft(opts.nodeAffinitySoft()));
    }
    return spec.setTaskId(ByteString.copyFrom(ctx.nextChildTaskId().toBytes()));
  }

  @Override
  public <T> ObjectRefGenerator<T> submitGenerator(Serializable function, Object[] args,
      TaskOptions opts, GeneratorCaller.Kind kind) {
    checkRunning();
    NewSpec built = buildSpec(function, args, opts);
    TaskSpec spec = built.spec()
        .setStreamingGenerator(true)
        .setReturnsDynamic(true)
        .setGeneratorBackpressureNumObjects(opts.generatorBackpressureNumObjects())
        .setGeneratorKind(kind == GeneratorCaller.Kind.PUBLISHER
            ? GeneratorKind.GENERATOR_KIND_PUBLISHER : GeneratorKind.GENERATOR_KIND_ITERATOR)
        .build();
    // The caller-side stream exists before the task can run, let alone report.
    ObjectRefStream stream = taskManager.addStreamingTask(spec, self, built.argRefs());
    Reference.reachabilityFence(built.argObjects());
    submitter.submit(spec);
    return new ObjectRefGeneratorImpl<>(stream, this::blocked);
  }

  /**
   * One argument as it travels: a ref, an inline value, or (over the inline threshold) a ref to
   * a new object in the node's store, added to {@code argObjects}.
   */
  private TaskArg toArg(Object arg, int index, String fn, List<ObjectRef<?>> argObjects) {
    if (arg instanceof ObjectRefImpl<?> ref) {
      refs.noteSerialized(ref);
      return TaskArg.newBuilder().setRef(ref.toInfo()).build();
    }
    if (arg instanceof ObjectRef<?>) {
      throw new IllegalArgumentException("argument " + index + " of " + fn
          + " is an ObjectRef not created by Sluice: " + arg.getClass().getName());
    }
    Encoded enc;
    ObjectId id = context().nextPutId();
    try {
      enc = encode(id, arg, () -> "argument " + index + " of " + fn);
    } catch (SerializationException e) {
      throw new SerializationException("argument " + index + " of " + fn
          + " cannot be serialized: " + e.getMessage(), e);
    }
    if (enc.value().hasData()) {
      return TaskArg.newBuilder().setValue(enc.value().getData()).build();
    }
    // In the node's store: the argument travels as a ref to an object of its own, which the
    // task holds (through the collection scope) until it ends. Nested refs are collected too.
    ObjectRefImpl<?> ref = refs.adopt(id, self, enc.value(), List.of());
    argObjects.add(ref);
    refs.noteSerialized(ref);
    return TaskArg.newBuilder().setRef(ref.toInfo()).build();
  }

  /**
   * A value encoded as an object: inline or in the node's store, with its nested refs; readable
   * once {@code sealed} completes (at once unless encoded with {@code sealLater}).
   */
  private record Encoded(ObjectValue value, List<ReferenceCounter.Nested> nested,
      CompletableFuture<Void> sealed) {
    Encoded(ObjectValue value, List<ReferenceCounter.Nested> nested) {
      this(value, nested, SEALED);
    }
  }

  private static final CompletableFuture<Void> SEALED = CompletableFuture.completedFuture(null);

  /**
   * Encodes {@code value} as object {@code id}: a {@code byte[]} over the inline threshold is
   * written to the node's store as is, anything else is serialized and written there when over
   * the threshold, else kept inline. Refs serialized inside are collected (and also seen by any
   * enclosing collection scope).
   */
  private Encoded encode(ObjectId id, Object value, java.util.function.Supplier<String> what) {
    return encode(id, value, what, false);
  }

  /**
   * As {@link #encode(ObjectId, Object, java.util.function.Supplier)}; with {@code sealLater} a
   * value written to the store may still be sealing when this returns (see
   * {@link SharedMemoryClient#writeAsync}).
   */
  private Encoded encode(ObjectId id, Object value, java.util.function.Supplier<String> what,
      boolean sealLater) {
    int threshold = options.inlineThresholdBytes();
    if (value instanceof byte[] raw && raw.length > threshold) {
      return stored(id, raw, true, List.of(), sealLater);
    }
    int outer = refs.beginCollect();
    byte[] bytes;
    List<ReferenceCounter.Nested> nested;
    try {
      bytes = serializer.serialize(value);
    } finally {
      nested = refs.endCollect(outer);
    }
    if (bytes.length > threshold) {
      return stored(id, bytes, false, nested, sealLater);
    }
    String excess = MessageLimit.describeExcess(what, bytes.length, options.maxMessageBytes());
    if (excess != null) {
      throw new ObjectTooLargeException(excess);
    }
    return new Encoded(ObjectValue.newBuilder().setData(UnsafeByteOperations.unsafeWrap(bytes))
        .build(), nested);
  }

  private Encoded stored(ObjectId id, byte[] bytes, boolean raw,
      List<ReferenceCounter.Nested> nested, boolean sealLater) {
    if (!sealLater) {
      return new Encoded(sharedStore.write(id, bytes, raw), nested);
    }
    SharedMemoryClient.Written written = sharedStore.writeAsync(id, bytes, raw);
    return new Encoded(written.value(), nested, written.sealed());
  }

  @Override
  public <T> ObjectRef<T> put(T value) {
    checkRunning();
    ObjectId id = context().nextPutId();
    Encoded enc = encode(id, value, () -> "put value of type "
        + (value == null ? "null" : value.getClass().getName()));
    // The nested refs are counted as contained before the caller can drop its own refs to them.
    refs.addContained(enc.nested(), false);
    return refs.adopt(id, self, enc.value(), enc.nested());
  }

  @Override
  public <T> T get(ObjectRef<T> ref, Duration timeout) {
    ObjectValue v = await(ref, timeout);
    T value;
    while (true) {
      try {
        value = decode(ref.id(), v);
        break;
      } catch (ObjectLostException lost) {
        v = rebuild(ref, lost, timeout);
      }
    }
    // Refs nested in the value are borrowed from now on: register before the ref that keeps
    // their outer object (and so them) alive may go.
    refs.awaitRegistrations(BORROW_REGISTRATION_TIMEOUT);
    Reference.reachabilityFence(ref);
    return value;
  }

  @Override
  public ObjectBuffer getBuffer(ObjectRef<byte[]> ref, Duration timeout) {
    ObjectValue v = await(ref, timeout);
    try {
      while (v.hasShared() && v.getShared().getRawBytes()) {
        try {
          return sharedStore.openBuffer(ref.id(), v.getShared());
        } catch (ObjectLostException lost) {
          v = rebuild(ref, lost, timeout);
        }
      }
      Object value = decode(ref.id(), v);
      if (value instanceof byte[] bytes) {
        return new HeapObjectBuffer(bytes);
      }
      throw new IllegalArgumentException(ref + " holds " + (value == null ? "null"
          : "a " + value.getClass().getName()) + ", not a byte[]: use get()");
    } finally {
      Reference.reachabilityFence(ref);
    }
  }

  /**
   * The object of {@code ref} was lost: if this process owns it and its task can run again, waits
   * for the rebuilt value (DESIGN "Failures"); otherwise rethrows, saying why it cannot be rebuilt.
   */
  private ObjectValue rebuild(ObjectRef<?> ref, ObjectLostException lost, Duration timeout) {
    ObjectRefImpl<?> r = impl(ref);
    if (!isOwnedHere(r)) {
      throw lost;
    }
    CompletableFuture<ObjectValue> rebuilt = taskManager.reconstruct(r.id());
    if (rebuilt == null) {
      throw new ObjectLostException(lost.getMessage() + "; it cannot be rebuilt ("
          + (r.id().isPut() ? "a put object has no task to run again"
              : "its task has no retries left or is no longer known") + ")", lost);
    }
    return waitFor(rebuilt, ref, timeout);
  }

  /** Waits for the value (or error) of {@code ref}; {@code timeout} null waits forever. */
  private ObjectValue await(ObjectRef<?> ref, Duration timeout) {
    checkRunning();
    return waitFor(future(ref), ref, timeout);
  }

  /** Waits for {@code f}, the value of {@code ref}, lending this worker's CPU while blocked. */
  private ObjectValue waitFor(CompletableFuture<ObjectValue> f, ObjectRef<?> ref,
      Duration timeout) {
    if (f.isDone()) {
      return f.join();
    }
    TaskId child = helpable(ref);
    if (child == null) {
      return waitBlocked(f, ref, timeout, null);
    }
    // Work helping: run the child here while it is still queued in this process; otherwise wait,
    // waking up if it comes back to the queue (a worker it was pipelined to blocked).
    long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        CompletableFuture<Void> requeued = joins.whenQueued(child);
        while (!f.isDone() && joins.tryRun(child)) {
          // ran it (a retry may queue it again)
        }
        if (f.isDone()) {
          return f.join();
        }
        Duration left = timeout == null ? null
            : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
        ObjectValue v = waitBlocked(f, ref, left, requeued);
        if (v != null) {
          return v;
        }
        joins.unwatch(child);
      }
    } finally {
      joins.unwatch(child);
    }
  }

  /**
   * The task of {@code ref} if this worker's current task may run it inline when it is queued
   * here: refs of tasks this process submitted, read by a task thread of a worker.
   */
  private TaskId helpable(ObjectRef<?> ref) {
    if (joins == null || currentTask.get() == null || ref.id().isPut()
        || !isOwnedHere(impl(ref))) {
      return null;
    }
    return ref.id().taskId();
  }

  /**
   * Waits for {@code f}, lending this worker's CPU while blocked; returns null if {@code wake}
   * completed first.
   */
  private ObjectValue waitBlocked(CompletableFuture<ObjectValue> f, ObjectRef<?> ref,
      Duration timeout, CompletableFuture<Void> wake) {
    blocked(true);
    try {
      CompletableFuture<?> first = wake == null ? f : CompletableFuture.anyOf(f, wake);
      if (timeout == null) {
        first.get();
      } else {
        first.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      }
      return f.isDone() ? f.get() : null;
    } catch (TimeoutException e) {
      throw Errors.timeout(ref, timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw interrupted(ref);
    } catch (ExecutionException e) {
      throw new SluiceException("failed getting " + ref, e.getCause());
    } finally {
      blocked(false);
    }
  }

  @SuppressWarnings("unchecked")
  private <T> T decode(ObjectId id, ObjectValue v) {
    if (v.hasError()) {
      throw Errors.toException(v.getError(), options.serializationAllowList());
    }
    if (v.hasShared()) {
      return (T) readShared(id, v.getShared());
    }
    return (T) serializer.deserialize(v.getData().asReadOnlyByteBuffer());
  }

  /**
   * Reads an object from this node's shared-memory store (fetched there first if it is in
   * another node's), pinned while it is read.
   */
  private Object readShared(ObjectId id, SharedMemoryLocation where) {
    MemorySegment bytes = sharedStore.pin(id, where);
    try {
      return where.getRawBytes() ? bytes.toArray(ValueLayout.JAVA_BYTE)
          : serializer.deserialize(bytes.asByteBuffer());
    } finally {
      sharedStore.release(id);
    }
  }

  private SluiceException interrupted(ObjectRef<?> ref) {
    TaskContext ctx = currentTask.get();
    if (options.isWorker() && ctx != null) {
      return new TaskCancelledException("task " + ctx.taskId() + " (" + ctx.displayName()
          + ") was interrupted (cancelled) while waiting for " + ref);
    }
    return new SluiceException("interrupted while waiting for " + ref);
  }

  @Override
  public <T> List<T> get(List<ObjectRef<T>> refs, Duration timeout) {
    long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
    List<T> out = new ArrayList<>(refs.size());
    for (ObjectRef<T> r : refs) {
      out.add(get(r, timeout == null ? null
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
  public <A extends Awaitable> AwaitResult<A> waitAny(List<A> items, int numReturns,
      Duration timeout) {
    checkRunning();
    List<CompletableFuture<?>> futures = new ArrayList<>(items.size());
    for (A item : items) {
      if (item instanceof ObjectRef<?> ref) {
        futures.add(future(ref));
      } else if (item instanceof ObjectRefGeneratorImpl<?> gen) {
        futures.add(gen.whenReady());
      } else {
        throw new IllegalArgumentException("cannot wait on " + item
            + ": not an ObjectRef or ObjectRefGenerator created by Sluice");
      }
    }
    CompletableFuture<Void> enough = new CompletableFuture<>();
    AtomicInteger done = new AtomicInteger();
    for (CompletableFuture<?> f : futures) {
      f.whenComplete((v, e) -> {
        if (done.incrementAndGet() >= numReturns) {
          enough.complete(null);
        }
      });
    }
    if (!enough.isDone() && !timeout.isZero()) {
      blocked(true);
      try {
        enough.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        // report what is ready so far
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SluiceException("interrupted in wait()");
      } finally {
        blocked(false);
      }
    }
    List<A> ready = new ArrayList<>();
    List<A> unready = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      if (futures.get(i).isDone() && ready.size() < numReturns) {
        ready.add(items.get(i));
      } else {
        unready.add(items.get(i));
      }
    }
    return new AwaitResult<>(ready, unready);
  }

  @Override
  public void cancel(ObjectRef<?> ref, boolean force) {
    checkRunning();
    ObjectRefImpl<?> r = impl(ref);
    if (!isOwnedHere(r)) {
      throw new IllegalArgumentException("only the owner of " + ref + " (the process that "
          + "submitted its task) can cancel it");
    }
    TaskId task = ref.id().taskId();
    if (!ref.id().isPut()) {
      canceller.cancel(task, force);
      if (joins != null) {
        receiver.cancel(task);  // it may be running inline in one of this worker's tasks
      }
    }
  }

  @Override
  public RuntimeContext runtimeContext() {
    checkRunning();
    TaskContext ctx = context();
    return new RuntimeContextImpl(ctx.taskId().jobId(), ctx.taskId(), ctx.attemptNumber(),
        options.nodeId(), options.workerId(), options.isWorker());
  }

  @Override
  public ObjectStoreStats objectStoreStats() {
    checkRunning();
    ObjectStoreStatsReply shared = sharedStore.stats();
    return new ObjectStoreStats(refs.size(), store.size(), shared.getCapacity(),
        shared.getUsed(), shared.getObjects(), shared.getSpilledBytes(),
        shared.getSpilledObjects());
  }

  @Override
  public void shutdown() {
    if (shutdown) {
      return;
    }
    shutdown = true;
    nodeWatcher.close();
    submitter.close();
    refs.close();
    taskManager.failAll(Errors.error(ErrorType.OWNER_DIED, "Sluice was shut down in the process"
        + " owning this object (" + location() + ") before the task finished"));
    receiver.stop();
    RpcFactory.shutdownQuietly(server);
    timers.shutdownNow();
    // Before the channels: closing the store client tells the node manager its extents are free.
    sharedStore.close();
    channels.close();
  }

  // ------------------------------------------------------------------ objects

  private CompletableFuture<ObjectValue> future(ObjectRef<?> ref) {
    ObjectRefImpl<?> r = impl(ref);
    ObjectValue carried = r.carriedValue();
    if (carried != null) {
      return CompletableFuture.completedFuture(carried);
    }
    CompletableFuture<ObjectValue> f = store.find(r.id());
    if (f != null) {
      return f;
    }
    if (isOwnedHere(r)) {
      return CompletableFuture.completedFuture(Errors.value(Errors.error(ErrorType.OBJECT_LOST,
          "object " + r.id() + " is unknown to its owner " + options.workerId()
              + " (never created here, or freed)")));
    }
    return resolve(r.toInfo());
  }

  /** The value of an object: from this store if owned or cached, else fetched from its owner. */
  private CompletableFuture<ObjectValue> resolve(ObjectRefInfo info) {
    ObjectId id = ObjectId.fromBytes(info.getObjectId().toByteArray());
    CompletableFuture<ObjectValue> local = store.find(id);
    if (local != null) {
      return local;
    }
    CompletableFuture<ObjectValue> f = store.expect(id);
    if (!refs.isReferenced(id)) {
      // Nothing here holds the object: fetch it without keeping a cached copy.
      store.remove(id);
    }
    String target = Addresses.target(info.getOwner());
    CoreWorkerServiceGrpc.newStub(channels.get(target)).getObject(
        GetObjectRequest.newBuilder().setObjectId(info.getObjectId()).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(GetObjectReply reply) {
            f.complete(reply.getValue());
          }

          @Override
          public void onError(Throwable t) {
            store.remove(id);
            f.complete(Errors.value(Errors.error(ErrorType.OWNER_DIED, "the owner of object "
                + id + " (worker " + Addresses.workerId(info.getOwner()) + " at " + target
                + ") is unreachable: " + t.getMessage())));
          }

          @Override
          public void onCompleted() {}
        });
    return f;
  }

  /**
   * In an idle worker that still borrows objects, runs a garbage collection: refs the finished
   * tasks dropped are only released (and their owners told) when the collector finds them, and
   * an idle worker's heap may not fill for a long time. At most once per period, and never while
   * a task runs.
   */
  private void collectIdleBorrows() {
    long finished = receiver.finishedTasks();
    if (shutdown || !receiver.isIdle() || refs.numBorrowed() == 0
        || finished == tasksAtLastIdleGc) {
      return;
    }
    tasksAtLastIdleGc = finished;
    int before = refs.numBorrowed();
    System.gc();
    log.debug("idle worker collected garbage: {} borrowed objects before", before);
  }

  /**
   * Frees an owned object's shared-memory copies: the one in this node's store (primary or
   * pulled), and the primary in the producing node's store when that is another node. Copies
   * pulled by third nodes are secondary; their stores drop them when they need the room.
   */
  private void deleteShared(ObjectId id, SharedMemoryLocation where) {
    sharedStore.delete(id);
    if (!isLocal(where)) {
      deleteCopyAt(id, where);
    }
  }

  /** Deletes the copy of {@code id} in the store of {@code where}'s node only. */
  private void deleteCopyAt(ObjectId id, SharedMemoryLocation where) {
    if (isLocal(where)) {
      sharedStore.delete(id);
      return;
    }
    NodeManagerServiceGrpc.newStub(channels.get(Addresses.target(where.getNodeManager())))
        .deleteObjects(dev.sluice.runtime.rpc.proto.DeleteObjectsRequest.newBuilder()
            .addObjectIds(ByteString.copyFrom(id.toBytes())).build(),
            Callbacks.ignoreReply("delete of " + id + " on node " + Addresses.nodeId(
                where.getNodeManager())));
  }

  private boolean isLocal(SharedMemoryLocation where) {
    return where.getNodeId().isEmpty() || where.getNodeId().equals(self.getNodeId())
        || !where.hasNodeManager();
  }

  /** Whether the copy at {@code where} is gone: its node is known dead. */
  private boolean isLost(SharedMemoryLocation where) {
    NodeWatcher w = nodeWatcher;
    dev.sluice.runtime.rpc.proto.NodeInfo n = w == null ? null : w.node(where.getNodeId());
    return n != null && !n.getAlive();
  }

  /** Whether the node manager at {@code target} answers within two seconds. */
  private boolean nodeManagerReachable(String target) {
    try {
      NodeManagerServiceGrpc.newBlockingStub(channels.get(target))
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .getNodeStats(dev.sluice.runtime.rpc.proto.NodeStatsRequest.getDefaultInstance());
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Worker {@code dead} exited: what it borrowed from this process is released. */
  public void onWorkerDied(WorkerId dead) {
    refs.removeBorrower(ByteString.copyFrom(dead.toBytes()));
  }

  /** Sends one borrower update to the owner of {@code id}. */
  private CompletableFuture<Void> sendBorrowerUpdate(Address owner, ObjectId id,
      Address borrower, int delta) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    UpdateBorrowersRequest req = UpdateBorrowersRequest.newBuilder()
        .addUpdates(BorrowerUpdate.newBuilder()
            .setObjectId(ByteString.copyFrom(id.toBytes()))
            .setBorrowerWorkerId(borrower.getWorkerId())
            .setBorrowerNodeId(borrower.getNodeId())
            .setDelta(delta))
        .build();
    try {
      CoreWorkerServiceGrpc.newStub(channels.get(Addresses.target(owner)))
          .updateBorrowers(req, new StreamObserver<>() {
            @Override
            public void onNext(UpdateBorrowersReply reply) {}

            @Override
            public void onError(Throwable t) {
              done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
              done.complete(null);
            }
          });
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
    }
    return done;
  }

  private boolean isOwnedHere(ObjectRefImpl<?> r) {
    return r.owner().getWorkerId().equals(self.getWorkerId());
  }

  private static ObjectRefImpl<?> impl(ObjectRef<?> ref) {
    if (ref instanceof ObjectRefImpl<?> r) {
      r.checkNotReleased();
      return r;
    }
    throw new IllegalArgumentException("not an ObjectRef created by Sluice: " + ref);
  }

  // ------------------------------------------------------------------ execution env

  @Override
  public String location() {
    return "node " + options.nodeId() + ", worker " + options.workerId() + " (pid "
        + ProcessHandle.current().pid() + ")";
  }

  @Override
  public Object getValue(ObjectRefImpl<?> ref) {
    return get(ref, null);
  }

  @Override
  public void executionBlocked(boolean isBlocked) {
    blocked(isBlocked);
  }

  @Override
  public TaskContext currentTask() {
    return currentTask.get();
  }

  @Override
  public void setCurrentTask(TaskContext ctx) {
    if (ctx == null) {
      currentTask.remove();
    } else {
      currentTask.set(ctx);
    }
  }

  @Override
  public int maxMessageBytes() {
    return options.maxMessageBytes();
  }

  @Override
  public Address address() {
    return self;
  }

  @Override
  public EncodedReturn encodeReturn(Object value, ObjectId id, Address taskOwner,
      boolean sealLater) {
    Encoded enc = encode(id, value, () -> "return value " + id, sealLater);
    List<ReferenceCounter.Nested> nested = enc.nested();
    if (nested.isEmpty()) {
      return new EncodedReturn(enc.value(), List.of(), enc.sealed());
    }
    try {
      refs.registerBorrower(nested, taskOwner)
          .get(BORROW_REGISTRATION_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("registering the owner of a return as borrower of its nested refs failed: {}",
          e.toString());
    }
    Reference.reachabilityFence(value);
    return new EncodedReturn(enc.value(),
        nested.stream().map(ReferenceCounter.Nested::toInfo).toList(), enc.sealed());
  }

  @Override
  public void ownerConnectionLost(ByteString leaseId) {
    if (shutdown) {
      return;
    }
    // Called from the failed call's context, which is cancelled: the notice must not inherit it.
    io.grpc.Context.ROOT.run(() -> NodeManagerServiceGrpc.newStub(
        channels.get(options.nodeManagerTarget())).returnWorker(
            dev.sluice.runtime.rpc.proto.ReturnWorkerRequest.newBuilder()
                .setWorkerId(ByteString.copyFrom(options.workerId().toBytes()))
                .setLeaseId(leaseId).build(),
            Callbacks.ignoreReply("giving back the lease of a lost owner")));
  }

  @Override
  public void awaitBorrowRegistrations() {
    refs.awaitRegistrations(BORROW_REGISTRATION_TIMEOUT);
  }

  private TaskContext context() {
    TaskContext ctx = currentTask.get();
    if (ctx != null) {
      return ctx;
    }
    if (driverContext != null) {
      return driverContext;
    }
    throw new IllegalStateException("this worker thread is not running a Sluice task");
  }

  /**
   * Tells the node manager that this worker's task is blocked waiting for objects, so its CPU can
   * be lent to the tasks it waits for (which would otherwise deadlock a full node).
   */
  private void blocked(boolean isBlocked) {
    if (options.isWorker()) {
      receiver.taskBlocked(isBlocked);
    }
  }

  @Override
  public void lendCpu(boolean lend) {
    if (shutdown) {
      return;
    }
    try {
      NodeManagerServiceGrpc.newBlockingStub(channels.get(options.nodeManagerTarget()))
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .notifyWorkerBlocked(WorkerBlockedRequest.newBuilder()
              .setWorkerId(ByteString.copyFrom(options.workerId().toBytes()))
              .setBlocked(lend).build());
    } catch (RuntimeException e) {
      log.debug("could not tell the node manager this worker is {}: {}",
          lend ? "blocked" : "running again", e.toString());
    }
  }


  private void checkRunning() {
    if (shutdown) {
      throw new IllegalStateException("Sluice has been shut down");
    }
  }

  // ------------------------------------------------------------------ RPC handlers

  private final class Handler extends CoreWorkerServiceGrpc.CoreWorkerServiceImplBase {
    @Override
    public StreamObserver<PushTaskBatch> pushTasks(StreamObserver<TaskResultBatch> out) {
      return receiver.openTaskStream(out);
    }

    @Override
    public void cancelTask(CancelTaskRequest req, StreamObserver<CancelTaskReply> out) {
      boolean found = receiver.cancel(TaskId.fromBytes(req.getTaskId().toByteArray()));
      out.onNext(CancelTaskReply.newBuilder().setAttempted(found).build());
      out.onCompleted();
    }

    @Override
    public void updateBorrowers(UpdateBorrowersRequest req,
        StreamObserver<UpdateBorrowersReply> out) {
      for (BorrowerUpdate u : req.getUpdatesList()) {
        refs.updateBorrowers(ObjectId.fromBytes(u.getObjectId().toByteArray()),
            u.getBorrowerWorkerId(), u.getBorrowerNodeId(), u.getDelta());
      }
      out.onNext(UpdateBorrowersReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void workersDied(WorkersDiedRequest req, StreamObserver<WorkersDiedReply> out) {
      req.getWorkerIdsList().forEach(refs::removeBorrower);
      out.onNext(WorkersDiedReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void collectGarbage(CollectGarbageRequest req,
        StreamObserver<CollectGarbageReply> out) {
      // Off the transport thread: the collection frees unreachable refs, whose cleaners then
      // release their objects.
      Thread.ofVirtual().start(System::gc);
      out.onNext(CollectGarbageReply.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void getObject(GetObjectRequest req, StreamObserver<GetObjectReply> out) {
      ObjectId id = ObjectId.fromBytes(req.getObjectId().toByteArray());
      CompletableFuture<ObjectValue> f = store.find(id);
      if (f == null) {
        f = CompletableFuture.completedFuture(Errors.value(Errors.error(ErrorType.OBJECT_LOST,
            "object " + id + " is unknown to its owner " + options.workerId()
                + " (never created there, or freed)")));
      }
      f.whenComplete((v, e) -> {
        try {
          out.onNext(GetObjectReply.newBuilder().setValue(v).build());
          out.onCompleted();
        } catch (RuntimeException ex) {
          log.debug("could not answer GetObject for {}: {}", id, ex.toString());
        }
      });
    }
  }
}
