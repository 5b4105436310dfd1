package dev.sluice.runtime.executor;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import dev.sluice.runtime.rpc.proto.ReportGeneratorItemReturns;
import dev.sluice.runtime.rpc.proto.ReturnObject;
import dev.sluice.runtime.rpc.proto.TaskResultBatch;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/**
 * The worker's side of generator reports on a task stream: an item whose object is still being
 * sealed in the node's store is not reported, and neither is anything yielded after it, until the
 * seal completes; then they go out in yield order. A generator's first item is reported at once,
 * later ones through the report sender, merged.
 */
class TaskStreamReportTest {
  private final List<ReportGeneratorItemReturns> sent = new CopyOnWriteArrayList<>();
  private final TaskStream stream = streamSending(Runnable::run);
  private final GeneratorWaiter waiter = new GeneratorWaiter(-1);

  private static final ReportGeneratorItemReturns HEADER =
      ReportGeneratorItemReturns.getDefaultInstance();

  /** A stream whose reports land in {@link #sent}, its report sender running on {@code sender}. */
  private TaskStream streamSending(Executor sender) {
    return new TaskStream(
        null,
        new StreamObserver<>() {
          @Override
          public void onNext(TaskResultBatch batch) {
            sent.addAll(batch.getReportsList());
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        },
        sender,
        64 << 20);
  }

  private static ReturnObject.Builder value(String s) {
    return ReturnObject.newBuilder()
        .setValue(ObjectValue.newBuilder().setData(ByteString.copyFromUtf8(s)));
  }

  /** Every item reported so far, in the order the owner receives them. */
  private List<String> reportedValues() {
    return sent.stream()
        .flatMap(r -> r.getReturnedObjectsList().stream())
        .map(o -> o.getValue().getData().toStringUtf8())
        .toList();
  }

  @Test
  void theFirstItemIsReportedOnTheProducingThreadAndLaterOnesByTheReportSender() {
    List<Runnable> senderTasks = new CopyOnWriteArrayList<>();
    TaskStream held = streamSending(senderTasks::add);
    GeneratorWaiter unbounded = new GeneratorWaiter(-1);

    held.sendReport(HEADER, 0, CompletableFuture.completedFuture(value("a")), unbounded);
    assertThat(reportedValues())
        .as("the time to first item includes no hop to the report sender")
        .containsExactly("a");

    held.sendReport(HEADER, 1, CompletableFuture.completedFuture(value("b")), unbounded);
    held.sendReport(HEADER, 2, CompletableFuture.completedFuture(value("c")), unbounded);
    assertThat(reportedValues()).as("later items wait to be merged").containsExactly("a");
    senderTasks.forEach(Runnable::run);
    assertThat(reportedValues()).containsExactly("a", "b", "c");
    assertThat(sent).hasSize(2);
  }

  @Test
  void anItemStillSealingHoldsBackItsReportAndEveryLaterOne() {
    CompletableFuture<ReturnObject.Builder> sealing = new CompletableFuture<>();
    stream.sendReport(HEADER, 0, CompletableFuture.completedFuture(value("a")), waiter);
    stream.sendReport(HEADER, 1, sealing, waiter);
    stream.sendReport(HEADER, 2, CompletableFuture.completedFuture(value("c")), waiter);
    stream.sendIssued();
    assertThat(reportedValues()).containsExactly("a");

    sealing.complete(value("b"));

    assertThat(reportedValues()).containsExactly("a", "b", "c");
    assertThat(sent.getLast().getItemIndex() + sent.getLast().getReturnedObjectsCount())
        .isEqualTo(3);
  }
}
