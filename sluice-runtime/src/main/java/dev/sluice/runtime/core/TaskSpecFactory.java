package dev.sluice.runtime.core;

import com.google.protobuf.ByteString;
import dev.sluice.ActorId;
import dev.sluice.ActorOptions;
import dev.sluice.GeneratorCaller;
import dev.sluice.ObjectId;
import dev.sluice.ObjectRef;
import dev.sluice.SerializationException;
import dev.sluice.TaskOptions;
import dev.sluice.runtime.common.ActorLifetimes;
import dev.sluice.runtime.common.TaskContext;
import dev.sluice.runtime.generator.GeneratorRetries;
import dev.sluice.runtime.owner.FunctionDescriptors;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.rpc.proto.ActorCallSpec;
import dev.sluice.runtime.rpc.proto.ActorCreationSpec;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.FunctionDescriptor;
import dev.sluice.runtime.rpc.proto.GeneratorKind;
import dev.sluice.runtime.rpc.proto.NodeAffinity;
import dev.sluice.runtime.rpc.proto.TaskArg;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.io.Serializable;
import java.lang.invoke.MethodHandleInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Builds the spec of a new task from a call (DESIGN "Life of a task"): its id (a child of the
 * current task), function, arguments and options. Arguments travel as refs, inline values, or, over
 * the inline threshold, as refs to new objects of their own in the node's store. Every ref among
 * the arguments (top level, nested in values, captured by the function) is collected so the task
 * manager can count it.
 *
 * <p>Threads: the submitting thread (a user or task thread); nothing here is shared between calls
 * except the thread-safe reference table and the current task's id counters.
 */
final class TaskSpecFactory {

  /**
   * A new task's spec, every ref among its arguments, and the objects its large arguments became,
   * which the caller keeps reachable until the task manager counts {@code argRefs}.
   */
  record NewSpec(
      TaskSpec spec, List<ReferenceCounter.Nested> argRefs, List<ObjectRef<?>> argObjects) {}

  private final FunctionDescriptors functions;
  private final ReferenceCounter refs;
  private final ObjectEncoder encoder;
  private final CurrentTask currentTask;
  private final Address self;
  private final BooleanSupplier recordEvents;

  TaskSpecFactory(
      FunctionDescriptors functions,
      ReferenceCounter refs,
      ObjectEncoder encoder,
      CurrentTask currentTask,
      Address self,
      BooleanSupplier recordEvents) {
    this.functions = functions;
    this.refs = refs;
    this.encoder = encoder;
    this.currentTask = currentTask;
    this.self = self;
    this.recordEvents = recordEvents;
  }

  /** The spec of a new normal task of the current task. */
  NewSpec task(Serializable function, Object[] args, TaskOptions opts) {
    return build(function, args, opts, spec -> {});
  }

  /** The spec of a new streaming generator task of the current task. */
  NewSpec generator(
      Serializable function, Object[] args, TaskOptions opts, GeneratorCaller.Kind kind) {
    return build(function, args, opts, spec -> generatorFields(spec, opts, kind));
  }

  private static void generatorFields(
      TaskSpec.Builder spec, TaskOptions opts, GeneratorCaller.Kind kind) {
    spec.setStreamingGenerator(true)
        .setReturnsDynamic(true)
        .setGeneratorBackpressureNumObjects(opts.generatorBackpressureNumObjects())
        .setGeneratorKind(
            kind == GeneratorCaller.Kind.PUBLISHER
                ? GeneratorKind.GENERATOR_KIND_PUBLISHER
                : GeneratorKind.GENERATOR_KIND_ITERATOR);
  }

  /**
   * The spec of the task that creates an actor (DESIGN "Actors"): the function is its constructor
   * or static factory; it returns nothing (the worker keeps the instance), is never retried as a
   * task (restarts run it again as new attempts), and holds the actor's resources.
   */
  NewSpec actorCreation(Serializable constructor, Object[] args, ActorOptions opts) {
    TaskOptions.Builder asTask =
        TaskOptions.builder()
            .maxRetries(0)
            .numCpus(opts.numCpus())
            .resources(opts.resources())
            .nodeAffinity(opts.nodeAffinity(), opts.nodeAffinitySoft());
    return build(
        constructor,
        args,
        asTask.build(),
        spec -> {
          String className = actorClassName(spec.getFunction());
          String simple = className.substring(className.lastIndexOf('.') + 1);
          spec.setNumReturns(0)
              .setRecordEvents(
                  true) // an actor's creation is always recorded (rare, and looked for)
              .setDisplayName(simple + ".<init>")
              .setActorCreation(
                  ActorCreationSpec.newBuilder()
                      .setActorId(spec.getTaskId())
                      .setName(opts.name() == null ? "" : opts.name())
                      .setClassName(className)
                      .setLifetimeValue(ActorLifetimes.toWire(opts.lifetime()))
                      .setMaxRestarts(opts.maxRestarts())
                      .setMaxTaskRetries(opts.maxTaskRetries())
                      .setMaxConcurrency(opts.maxConcurrency()));
        });
  }

  /**
   * The spec of a call of an actor method: no resources of its own (the actor holds them), retried
   * only when the actor's process died while it ran, within {@code maxTaskRetries} (-1 unlimited).
   * {@code kind} is null for a plain call.
   */
  NewSpec actorCall(
      ActorId actor,
      Serializable method,
      Object[] args,
      TaskOptions opts,
      boolean async,
      GeneratorCaller.Kind kind,
      int maxTaskRetries) {
    int retries = maxTaskRetries < 0 ? Integer.MAX_VALUE : maxTaskRetries;
    return build(
        method,
        args,
        opts,
        spec -> {
          spec.clearResources()
              .clearNodeAffinity()
              .setMaxRetries(retries)
              .setRetryExceptions(false)
              .setActorCall(
                  ActorCallSpec.newBuilder()
                      .setActorId(ByteString.copyFrom(actor.toBytes()))
                      .setAsync(async));
          GeneratorRetries.withBudget(spec, retries);
          if (kind != null) {
            generatorFields(spec, opts, kind);
          }
        });
  }

  /** The class an actor's constructor or factory makes, from its descriptor. */
  static String actorClassName(FunctionDescriptor fn) {
    if (fn.getImplKind() == MethodHandleInfo.REF_newInvokeSpecial) {
      return fn.getClassName();
    }
    String d = fn.getMethodDescriptor();
    int ret = d.indexOf(')') + 1;
    if (ret > 0 && d.charAt(ret) == 'L') {
      return d.substring(ret + 1, d.length() - 1).replace('/', '.');
    }
    throw new IllegalArgumentException(
        "an actor's constructor must be a constructor or a factory returning an object; "
            + fn.getClassName()
            + "."
            + fn.getMethodName()
            + " returns "
            + d.substring(Math.max(ret, 0)));
  }

  private NewSpec build(
      Serializable function,
      Object[] args,
      TaskOptions opts,
      Consumer<TaskSpec.Builder> kindFields) {
    List<ObjectRef<?>> argObjects = new ArrayList<>(0);
    int outer = refs.beginCollect();
    TaskSpec.Builder spec;
    List<ReferenceCounter.Nested> argRefs;
    try {
      spec = specOf(function, args, opts, argObjects);
    } finally {
      argRefs = refs.endCollect(outer);
    }
    kindFields.accept(spec);
    if (!spec.getRecordEvents()) {
      spec.setRecordEvents(recordEvents.getAsBoolean()); // TaskEventSampling
    }
    return new NewSpec(spec.build(), argRefs, argObjects);
  }

  private TaskSpec.Builder specOf(
      Serializable function, Object[] args, TaskOptions opts, List<ObjectRef<?>> argObjects) {
    TaskContext ctx = currentTask.context();
    FunctionDescriptors.Described fn = functions.describe(function);
    String name = opts.name() != null ? opts.name() : fn.displayName();
    TaskSpec.Builder spec =
        TaskSpec.newBuilder()
            .setJobId(ByteString.copyFrom(ctx.taskId().jobId().toBytes()))
            .setParentTaskId(ByteString.copyFrom(ctx.taskId().toBytes()))
            .setFunction(fn.descriptor())
            .setDisplayName(name)
            .setNumReturns(1)
            .setOwner(self)
            .setMaxRetries(opts.maxRetries())
            .setRetryExceptions(opts.retryExceptions());
    // The first attempt has every retry left (TaskManager keeps the budget from then on).
    GeneratorRetries.withBudget(spec, opts.maxRetries());
    for (int i = 0; i < args.length; i++) {
      spec.addArgs(toArg(args[i], i, name, argObjects));
    }
    Map<String, Double> resources = new HashMap<>(opts.resources());
    if (opts.numCpus() > 0) {
      resources.put("CPU", opts.numCpus());
    }
    spec.putAllResources(resources);
    if (opts.nodeAffinity() != null) {
      spec.setNodeAffinity(
          NodeAffinity.newBuilder()
              .setNodeId(ByteString.copyFrom(opts.nodeAffinity().toBytes()))
              .setSoft(opts.nodeAffinitySoft()));
    }
    return spec.setTaskId(ByteString.copyFrom(ctx.nextChildTaskId().toBytes()));
  }

  /**
   * One argument as it travels: a ref, an inline value, or (over the inline threshold) a ref to a
   * new object in the node's store, added to {@code argObjects}.
   */
  private TaskArg toArg(Object arg, int index, String fn, List<ObjectRef<?>> argObjects) {
    if (arg instanceof ObjectRefImpl<?> ref) {
      refs.noteSerialized(ref);
      return TaskArg.newBuilder().setRef(ref.toInfo()).build();
    }
    if (arg instanceof ObjectRef<?>) {
      throw new IllegalArgumentException(
          "argument "
              + index
              + " of "
              + fn
              + " is an ObjectRef not created by Sluice: "
              + arg.getClass().getName());
    }
    ObjectEncoder.Encoded enc;
    ObjectId id = currentTask.context().nextPutId();
    try {
      enc = encoder.encode(id, arg, () -> "argument " + index + " of " + fn);
    } catch (SerializationException e) {
      throw new SerializationException(
          "argument " + index + " of " + fn + " cannot be serialized: " + e.getMessage(), e);
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
}
