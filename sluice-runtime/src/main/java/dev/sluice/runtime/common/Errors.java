package dev.sluice.runtime.common;

import com.google.protobuf.ByteString;
import dev.sluice.ActorDiedException;
import dev.sluice.FunctionNotFoundException;
import dev.sluice.GetTimeoutException;
import dev.sluice.NodeDiedException;
import dev.sluice.ObjectLostException;
import dev.sluice.ObjectTooLargeException;
import dev.sluice.OwnerDiedException;
import dev.sluice.RemoteException;
import dev.sluice.SerializationException;
import dev.sluice.SluiceException;
import dev.sluice.TaskCancelledException;
import dev.sluice.TaskException;
import dev.sluice.TaskUnschedulableException;
import dev.sluice.WorkerCrashedException;
import dev.sluice.runtime.rpc.proto.ActorDiedReason;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.serial.ThrowableCodec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

/**
 * Converts failures to and from their wire form, {@link ErrorInfo}: the executor describes an
 * exception once, the owner stores it in place of the value, and every {@code get} rebuilds the
 * typed public exception from it.
 */
public final class Errors {
  private Errors() {}

  /** An error of {@code type} with a full message. */
  public static ErrorInfo error(ErrorType type, String message) {
    return ErrorInfo.newBuilder().setType(type).setMessage(message).build();
  }

  /** The value form of an error. */
  public static ObjectValue value(ErrorInfo error) {
    return ObjectValue.newBuilder().setError(error).build();
  }

  /**
   * Describes an application exception thrown by a task. {@code message} names the function, task
   * and node; the exception is kept serialized, and as class, message and stack text for when its
   * class cannot be rebuilt on the reading side.
   */
  public static ErrorInfo applicationError(String message, Throwable t) {
    ErrorInfo.Builder b =
        ErrorInfo.newBuilder()
            .setType(ErrorType.TASK_EXECUTION_EXCEPTION)
            .setMessage(message)
            .setExceptionClass(t.getClass().getName())
            .setStackTrace(stackTrace(t));
    if (t.getMessage() != null) {
      b.setExceptionMessage(t.getMessage());
    }
    byte[] serialized = ThrowableCodec.serializeThrowable(t);
    if (serialized != null) {
      b.setSerializedException(ByteString.copyFrom(serialized));
    }
    return b.build();
  }

  /** The stack trace of {@code t} as {@link Throwable#printStackTrace()} prints it. */
  public static String stackTrace(Throwable t) {
    StringWriter sw = new StringWriter();
    t.printStackTrace(new PrintWriter(sw));
    return sw.toString();
  }

  /** The public exception an error stands for. */
  public static SluiceException toException(ErrorInfo e, List<String> allowList) {
    String m = e.getMessage();
    return switch (e.getType()) {
      case TASK_EXECUTION_EXCEPTION -> new TaskException(m, rebuildCause(e, allowList));
      case WORKER_DIED -> new WorkerCrashedException(m);
      case NODE_DIED -> new NodeDiedException(m);
      case TASK_CANCELLED -> new TaskCancelledException(m);
      case OBJECT_LOST -> new ObjectLostException(m);
      case OWNER_DIED -> new OwnerDiedException(m);
      case SERIALIZATION_FAILED -> new SerializationException(m, null);
      case FUNCTION_NOT_FOUND -> new FunctionNotFoundException(m);
      case OBJECT_TOO_LARGE -> new ObjectTooLargeException(m);
      case OBJECT_STORE_FULL -> new dev.sluice.ObjectStoreFullException(m);
      case TASK_UNSCHEDULABLE -> new TaskUnschedulableException(m);
      case ACTOR_DIED -> actorDiedException(e, allowList);
      default -> new SluiceException(m);
    };
  }

  /**
   * Describes an actor's death for every call that cannot run: {@code message} names the actor, its
   * class and node, and says why; {@code cause} is the constructor's exception, or null.
   */
  public static ErrorInfo actorDied(
      ActorDiedException.Reason reason, String message, Throwable cause) {
    ErrorInfo.Builder b =
        (cause == null ? ErrorInfo.newBuilder() : applicationError(message, cause).toBuilder())
            .setType(ErrorType.ACTOR_DIED)
            .setMessage(message)
            .setActorDiedReason(ActorDiedReason.forNumber(reason.ordinal() + 1));
    return b.build();
  }

  /** The public reason an actor death stands for. */
  public static ActorDiedException.Reason actorDiedReason(ErrorInfo e) {
    int n = e.getActorDiedReasonValue();
    ActorDiedException.Reason[] all = ActorDiedException.Reason.values();
    return n >= 1 && n <= all.length ? all[n - 1] : ActorDiedException.Reason.PROCESS_DIED;
  }

  private static ActorDiedException actorDiedException(ErrorInfo e, List<String> allowList) {
    // The actor table keeps a constructor's exception only in its serialized form.
    boolean hasCause = !e.getExceptionClass().isEmpty() || !e.getSerializedException().isEmpty();
    return hasCause
        ? new ActorDiedException(actorDiedReason(e), e.getMessage(), rebuildCause(e, allowList))
        : new ActorDiedException(actorDiedReason(e), e.getMessage());
  }

  private static Throwable rebuildCause(ErrorInfo e, List<String> allowList) {
    if (!e.getSerializedException().isEmpty()) {
      Throwable t =
          ThrowableCodec.deserializeThrowable(e.getSerializedException().toByteArray(), allowList);
      if (t != null) {
        return t;
      }
    }
    return new RemoteException(
        e.getExceptionClass(),
        e.getExceptionMessage().isEmpty() ? null : e.getExceptionMessage(),
        e.getStackTrace());
  }

  /** The exception for a {@code get} that timed out. */
  public static GetTimeoutException timeout(Object what, java.time.Duration timeout) {
    return new GetTimeoutException(
        "timed out after " + timeout.toMillis() + " ms waiting for " + what);
  }
}
