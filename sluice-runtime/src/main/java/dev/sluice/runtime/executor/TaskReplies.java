package dev.sluice.runtime.executor;

import com.google.protobuf.ByteString;
import dev.sluice.ObjectId;
import dev.sluice.ObjectStoreFullException;
import dev.sluice.ObjectTooLargeException;
import dev.sluice.SerializationException;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * What a task's reply carries: its return objects as they travel (encoded by the process, or the
 * error explaining why a value cannot travel), and the errors that stand in for every return value
 * of a task that failed or was cancelled. Each error names the task, its function and where it ran
 * (DESIGN "Failures").
 *
 * <p>Threads: any thread (task threads in practice); it keeps no state of its own.
 */
final class TaskReplies {
  private final ExecutionEnv env;

  TaskReplies(ExecutionEnv env) {
    this.env = env;
  }

  /**
   * A returned value as it travels: serialized inline, or the error explaining why it cannot be.
   * Refs nested in it are listed, and the task's owner is registered as their borrower before this
   * returns (see {@link ExecutionEnv#encodeReturn}). The future completes when the value may be
   * sent: at once, unless {@code sealLater} and it is still being sealed in the node's store.
   */
  CompletableFuture<ReturnObject.Builder> returnValue(
      Object value, ObjectId id, Supplier<String> what, Address owner, boolean sealLater) {
    ReturnObject.Builder out = ReturnObject.newBuilder();
    ErrorInfo error;
    try {
      ExecutionEnv.EncodedReturn r = env.encodeReturn(value, id, owner, sealLater);
      out.setValue(r.value());
      if (!r.nestedRefs().isEmpty()) {
        out.addAllNestedRefs(r.nestedRefs());
      }
      return r.sealed()
          .handle(
              (stored, e) ->
                  e == null
                      ? out
                      : out.setValue(
                          Errors.value(
                              Errors.error(
                                  ErrorType.OBJECT_LOST,
                                  what.get()
                                      + " on "
                                      + env.location()
                                      + " could not be stored: "
                                      + (e.getCause() != null ? e.getCause() : e).getMessage()))));
    } catch (SerializationException e) {
      error =
          Errors.error(
              ErrorType.SERIALIZATION_FAILED,
              what.get()
                  + " on "
                  + env.location()
                  + " produced a value that cannot be serialized: "
                  + e.getMessage());
    } catch (ObjectTooLargeException e) {
      error =
          Errors.error(
              ErrorType.OBJECT_TOO_LARGE,
              "the value " + what.get() + " on " + env.location() + " produced: " + e.getMessage());
    } catch (ObjectStoreFullException e) {
      error =
          Errors.error(
              ErrorType.OBJECT_STORE_FULL,
              what.get()
                  + " on "
                  + env.location()
                  + " produced a value that does not fit: "
                  + e.getMessage());
    }
    return CompletableFuture.completedFuture(out.setValue(Errors.value(error)));
  }

  /** The reply of a task that returned {@code value}: its one return object, ready to send. */
  PushTaskReply returned(TaskId taskId, Object value, String what, Address owner) {
    ObjectId id = ObjectId.of(taskId, 1);
    return PushTaskReply.newBuilder()
        .addReturns(
            returnValue(value, id, () -> what, owner, false)
                .join()
                .setObjectId(ByteString.copyFrom(id.toBytes())))
        .build();
  }

  /** A reply with {@code e} in place of every return value of the task {@code spec}. */
  PushTaskReply failed(TaskSpec spec, ErrorInfo e, boolean applicationError) {
    TaskId taskId = TaskId.fromBytes(spec.getTaskId().toByteArray());
    PushTaskReply.Builder b = PushTaskReply.newBuilder().setIsApplicationError(applicationError);
    for (int i = 1; i <= Math.max(1, spec.getNumReturns()); i++) {
      b.addReturns(
          ReturnObject.newBuilder()
              .setObjectId(ByteString.copyFrom(ObjectId.of(taskId, i).toBytes()))
              .setValue(Errors.value(e)));
    }
    return b.build();
  }

  /** The error of {@code what}, a task whose code threw {@code t} (or whose argument failed). */
  ErrorInfo applicationError(String what, Throwable t) {
    return Errors.applicationError(what + " failed on " + env.location() + ": " + t, t);
  }

  /** The error of {@code what}, whose function could not be found. */
  ErrorInfo functionNotFound(String what, Exception e) {
    return Errors.error(ErrorType.FUNCTION_NOT_FOUND, what + " cannot run: " + e.getMessage());
  }

  /** The error of {@code what}, whose arguments could not be deserialized. */
  ErrorInfo argumentsUnreadable(String what, Exception e) {
    return Errors.error(
        ErrorType.SERIALIZATION_FAILED,
        what + " on " + env.location() + " could not deserialize its arguments: " + e.getMessage());
  }

  /** The error of a task that failed in the runtime rather than in its code. */
  ErrorInfo internalError(TaskId taskId, Throwable t) {
    return Errors.error(
        ErrorType.TASK_EXECUTION_EXCEPTION, "internal error running task " + taskId + ": " + t);
  }

  /** The error of the cancelled task {@code spec}. */
  ErrorInfo cancelled(TaskSpec spec) {
    return Errors.error(
        ErrorType.TASK_CANCELLED,
        "task "
            + TaskId.fromBytes(spec.getTaskId().toByteArray())
            + " ("
            + spec.getDisplayName()
            + ") was cancelled on "
            + env.location());
  }
}
