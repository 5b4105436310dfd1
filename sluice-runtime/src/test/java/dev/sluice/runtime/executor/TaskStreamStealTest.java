package dev.sluice.runtime.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.sluice.ActorId;
import dev.sluice.JobId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.runtime.common.TaskContext;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ErrorInfo;
import dev.sluice.runtime.rpc.proto.PushTaskBatch;
import dev.sluice.runtime.rpc.proto.PushTaskReply;
import dev.sluice.runtime.rpc.proto.PushTaskRequest;
import dev.sluice.runtime.rpc.proto.TaskResult;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import dev.sluice.runtime.serial.ObjectSerializer;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Rules checked: a finished task's reply is never left buffered on the worker, and is held back
 * only for a moment. A reply is held back only while a task of the same stream is next in the
 * queue; when the owner steals that task back between the execution thread's look at the queue and
 * its send, the reply must still go out (before the fix it waited for a task that never came, and
 * its owner waited forever).
 */
class TaskStreamStealTest {
  private final List<TaskResultBatch> sent = new CopyOnWriteArrayList<>();
  private final TaskReceiver receiver =
      new TaskReceiver(new NoEnv(), new ObjectSerializer(List.of(), null));
  private final TaskStream stream =
      new TaskStream(
          receiver,
          new StreamObserver<>() {
            @Override
            public void onNext(TaskResultBatch batch) {
              sent.add(batch);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
          },
          Runnable::run,
          64 << 20);

  @AfterEach
  void stopReceiver() {
    receiver.stop();
  }

  private static ByteString taskId(int n) {
    return ByteString.copyFrom(TaskId.forChild(TaskId.forDriver(JobId.of(1)), n).toBytes());
  }

  private static PushTaskRequest push(ByteString id) {
    return PushTaskRequest.newBuilder().setSpec(TaskSpec.newBuilder().setTaskId(id)).build();
  }

  private List<TaskResult> results() {
    return sent.stream().flatMap(b -> b.getResultsList().stream()).toList();
  }

  @Test
  void aReplyHeldForATaskThatWasStolenMeanwhileIsSent() {
    ByteString first = taskId(1);
    ByteString next = taskId(2);
    stream.onNext(PushTaskBatch.newBuilder().addTasks(push(next)).build());
    // The execution thread finished `first` and saw `next` queued behind it; before its reply
    // is handed to the stream, the owner steals `next` back.
    stream.onNext(PushTaskBatch.newBuilder().setSteal(true).build());
    assertThat(results()).extracting(TaskResult::getTaskId).containsExactly(next);

    stream.send(first, PushTaskReply.getDefaultInstance(), true);

    assertThat(results()).extracting(TaskResult::getTaskId).containsExactly(next, first);
  }

  @Test
  void aReplyHeldForAQueuedTaskGoesOutNoLaterThanTheStealThatTakesThatTask() {
    ByteString first = taskId(1);
    ByteString next = taskId(2);
    stream.onNext(PushTaskBatch.newBuilder().addTasks(push(next)).build());

    stream.send(first, PushTaskReply.getDefaultInstance(), true);
    stream.onNext(PushTaskBatch.newBuilder().setSteal(true).build());
    assertThat(results()).extracting(TaskResult::getTaskId).containsExactly(first, next);
  }

  /**
   * Rule checked: a reply is held back only for a moment. The next task of the stream may run long;
   * the finished task's reply must not wait for it (nor be lost with its worker).
   */
  @Test
  void aHeldReplyGoesOutAfterAMomentThoughTheNextTaskIsStillQueued() {
    ByteString first = taskId(1);
    stream.onNext(PushTaskBatch.newBuilder().addTasks(push(taskId(2))).build());

    stream.send(first, PushTaskReply.getDefaultInstance(), true);

    await("the held reply is sent")
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> assertThat(results()).extracting(TaskResult::getTaskId).containsExactly(first));
  }

  /** The receiver is never started: no task runs, so nothing of the environment is needed. */
  private static final class NoEnv implements ExecutionEnv {
    @Override
    public String location() {
      return "test";
    }

    @Override
    public Object getValue(ObjectRefImpl<?> ref) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void setCurrentTask(TaskContext ctx) {}

    @Override
    public int maxMessageBytes() {
      return 64 << 20;
    }

    @Override
    public Address address() {
      return Address.getDefaultInstance();
    }

    @Override
    public EncodedReturn encodeReturn(
        Object value, ObjectId id, Address taskOwner, boolean sealLater) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void awaitBorrowRegistrations() {}

    @Override
    public void ownerConnectionLost(ByteString leaseId) {}

    @Override
    public void lendCpu(boolean lend) {}

    @Override
    public void reportActorDead(ActorId id, int instance, ErrorInfo cause) {}

    @Override
    public void executionBlocked(boolean blocked) {}

    @Override
    public TaskContext currentTask() {
      return null;
    }
  }
}
