package dev.sluice.runtime.executor;

import com.google.protobuf.ByteString;
import dev.sluice.ActorId;
import dev.sluice.ObjectId;
import dev.sluice.ObjectStoreFullException;
import dev.sluice.ObjectTooLargeException;
import dev.sluice.SerializationException;
import dev.sluice.runtime.common.TaskContext;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ObjectRefInfo;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What a {@link TaskReceiver} needs from the process it runs in (the core worker implements it):
 * the current task, reading argument objects, encoding return values, and the node manager calls a
 * worker makes for its tasks. The executor reaches its process only through it, so it does not
 * depend on the core worker that wires it.
 *
 * <p>Threads: called from task threads, except where a method says otherwise.
 */
public interface ExecutionEnv {

  /** A task attempt starts running here (recorded for the state API). */
  default void taskStarted(TaskSpec spec) {}

  /** Where tasks run, for messages: "node N, worker W". */
  String location();

  /** Blocks for the value of a borrowed or owned object. */
  Object getValue(ObjectRefImpl<?> ref);

  /** Makes {@code ctx} the current task of the calling thread (null clears it). */
  void setCurrentTask(TaskContext ctx);

  /**
   * The current task stopped (true) or resumed (false) waiting, e.g. a producer paused by
   * backpressure: its worker lends its CPU meanwhile, as in a blocking {@code get}.
   */
  void executionBlocked(boolean blocked);

  /** The current task of the calling thread, or null. */
  TaskContext currentTask();

  /** The transport's message limit. */
  int maxMessageBytes();

  /** This process's address, named in generator reports. */
  Address address();

  /**
   * Encodes a task's return value (or streamed item) {@code id}: inline, or written to the node's
   * shared-memory store when over the inline threshold. The refs nested in it are listed, and
   * {@code taskOwner} has been registered as a borrower of each when this returns, so they outlive
   * this process's own copies until the owner counts them.
   *
   * <p>With {@code sealLater}, a value written to the store may still be sealing on return: it must
   * not reach a reader before {@link EncodedReturn#sealed} completes.
   *
   * @throws SerializationException if the value cannot be serialized
   * @throws ObjectStoreFullException if it is large and the store has no room
   * @throws ObjectTooLargeException if it can neither travel inline nor fit the store
   */
  EncodedReturn encodeReturn(Object value, ObjectId id, Address taskOwner, boolean sealLater);

  /**
   * Waits until the borrows this process took on refs it deserialized are registered with their
   * owners: called before a task's reply releases the arguments that kept them alive.
   */
  void awaitBorrowRegistrations();

  /**
   * The owner's task stream broke (its process or node died, or the network failed): the lease this
   * worker serves ({@code leaseId}, empty if unknown) will never be returned by the owner, so it is
   * given back here. Runs on the transport thread of the broken stream: must not block.
   */
  void ownerConnectionLost(ByteString leaseId);

  /**
   * Tells the node that every task this worker runs is blocked ({@code true}: its CPU may be lent
   * out, and the worker leased again) or that one runs again. Called in order, on one thread; may
   * block.
   */
  void lendCpu(boolean lend);

  /**
   * Tells the control service's actor table that instance {@code instance} of actor {@code id},
   * hosted here, is dead for {@code cause} (an {@code ACTOR_DIED} error with its reason): an {@code
   * OWNED} actor whose creator died reports its own death before its process exits. Blocks for the
   * answer (a short control RPC); called on a thread of the actor host.
   *
   * @throws RuntimeException if the control service could not be told
   */
  void reportActorDead(ActorId id, int instance, ErrorInfo cause);

  /**
   * An encoded return value and the refs nested in it; readable once {@code sealed} completes
   * (exceptionally if the store refused it).
   */
  record EncodedReturn(
      ObjectValue value, List<ObjectRefInfo> nestedRefs, CompletableFuture<Void> sealed) {}
}
