package dev.sluice.runtime.core;

import com.google.protobuf.ByteString;
import dev.sluice.ActorId;
import dev.sluice.ObjectId;
import dev.sluice.runtime.actor.ActorTableClient;
import dev.sluice.runtime.common.TaskContext;
import dev.sluice.runtime.executor.ExecutionEnv;
import dev.sluice.runtime.executor.TaskReceiver;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.rpc.proto.ActorState;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.rpc.proto.UpdateActorRequest;
import dev.sluice.runtime.state.TaskEvents;
import java.lang.ref.Reference;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the executor side ({@link TaskReceiver}) needs from its process: the current task, reading
 * argument objects, encoding return values (registering the task's owner as borrower of the refs
 * nested in them), and the node manager calls a worker makes for its tasks (lending its CPU, giving
 * back the lease of a lost owner), and the actor table call of a hosted actor whose creator died.
 *
 * <p>Threads: called by the receiver's task threads, except {@link #ownerConnectionLost}, which
 * runs on the transport thread of the broken task stream and does not block. {@link #lendCpu} calls
 * come in order on one thread and block for the node manager's answer.
 */
final class ExecutorEnvironment implements ExecutionEnv {
  private static final Logger log = LoggerFactory.getLogger(ExecutorEnvironment.class);

  private final CoreWorkerOptions options;
  private final Address self;
  private final CurrentTask currentTask;
  private final ObjectEncoder encoder;
  private final ReferenceCounter refs;
  private final NodeManagerClient nodeManager;
  private final ActorTableClient actorTable;
  private final BooleanSupplier isShutdown;

  /** Told true when the current task starts waiting, false when it stops. */
  private final Consumer<Boolean> blocked;

  /** Blocks for the value of a ref, as {@code Sluice.get} does. */
  private final Function<ObjectRefImpl<?>, Object> valueOf;

  private final TaskEvents events;

  ExecutorEnvironment(
      CoreWorkerOptions options,
      Address self,
      CurrentTask currentTask,
      ObjectEncoder encoder,
      ReferenceCounter refs,
      NodeManagerClient nodeManager,
      ActorTableClient actorTable,
      BooleanSupplier isShutdown,
      Consumer<Boolean> blocked,
      Function<ObjectRefImpl<?>, Object> valueOf,
      TaskEvents events) {
    this.events = events;
    this.options = options;
    this.self = self;
    this.currentTask = currentTask;
    this.encoder = encoder;
    this.refs = refs;
    this.nodeManager = nodeManager;
    this.actorTable = actorTable;
    this.isShutdown = isShutdown;
    this.blocked = blocked;
    this.valueOf = valueOf;
  }

  @Override
  public void taskStarted(TaskSpec spec) {
    events.running(spec);
  }

  @Override
  public String location() {
    return "node "
        + options.nodeId()
        + ", worker "
        + options.workerId()
        + " (pid "
        + ProcessHandle.current().pid()
        + ")";
  }

  @Override
  public Object getValue(ObjectRefImpl<?> ref) {
    return valueOf.apply(ref);
  }

  @Override
  public void executionBlocked(boolean isBlocked) {
    blocked.accept(isBlocked);
  }

  @Override
  public TaskContext currentTask() {
    return currentTask.get();
  }

  @Override
  public void setCurrentTask(TaskContext ctx) {
    currentTask.set(ctx);
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
  public EncodedReturn encodeReturn(
      Object value, ObjectId id, Address taskOwner, boolean sealLater) {
    ObjectEncoder.Encoded enc = encoder.encode(id, value, () -> "return value " + id, sealLater);
    List<ReferenceCounter.Nested> nested = enc.nested();
    if (nested.isEmpty()) {
      return new EncodedReturn(enc.value(), List.of(), enc.sealed());
    }
    try {
      refs.registerBorrower(nested, taskOwner)
          .get(ObjectResolver.BORROW_REGISTRATION_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn(
          "registering the owner of a return as borrower of its nested refs failed: {}",
          e.toString());
    }
    Reference.reachabilityFence(value);
    return new EncodedReturn(
        enc.value(), nested.stream().map(ReferenceCounter.Nested::toInfo).toList(), enc.sealed());
  }

  @Override
  public void ownerConnectionLost(ByteString leaseId) {
    if (isShutdown.getAsBoolean()) {
      return;
    }
    // Called from the failed call's context, which is cancelled: the client does not inherit it.
    nodeManager.returnWorker(
        options.nodeManagerTarget(),
        options.workerId(),
        leaseId,
        "giving back the lease of a lost owner");
  }

  @Override
  public void reportActorDead(ActorId id, int instance, ErrorInfo cause) {
    actorTable.update(
        UpdateActorRequest.newBuilder()
            .setActorId(ByteString.copyFrom(id.toBytes()))
            .setState(ActorState.ACTOR_STATE_DEAD)
            .setDeathCause(cause)
            .setNumRestarts(instance)
            .build());
  }

  @Override
  public void awaitBorrowRegistrations() {
    refs.awaitRegistrations(ObjectResolver.BORROW_REGISTRATION_TIMEOUT);
  }

  @Override
  public void lendCpu(boolean lend) {
    if (isShutdown.getAsBoolean()) {
      return;
    }
    try {
      nodeManager.notifyWorkerBlocked(options.nodeManagerTarget(), options.workerId(), lend);
    } catch (RuntimeException e) {
      log.debug(
          "could not tell the node manager this worker is {}: {}",
          lend ? "blocked" : "running again",
          e.toString());
    }
  }
}
