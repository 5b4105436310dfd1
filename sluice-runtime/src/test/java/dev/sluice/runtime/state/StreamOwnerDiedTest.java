package dev.sluice.runtime.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.ListStreamsReply;
import dev.sluice.runtime.rpc.proto.ReportTaskEventsReply;
import dev.sluice.runtime.rpc.proto.StateRequest;
import dev.sluice.runtime.rpc.proto.StreamCounters;
import dev.sluice.runtime.rpc.proto.StreamRow;
import dev.sluice.runtime.rpc.proto.TaskEventBatch;
import io.grpc.stub.StreamObserver;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The state service's stream table when an owner's death becomes known to the control service. */
class StreamOwnerDiedTest {
  private static final ByteString NODE_A = bytes(16, 0xA);
  private static final ByteString NODE_B = bytes(16, 0xB);

  private static ByteString bytes(int n, int fill) {
    byte[] b = new byte[n];
    Arrays.fill(b, (byte) fill);
    return ByteString.copyFrom(b);
  }

  /** A task id of job {@code job} (4 bytes) and a stream id. */
  private static StreamCounters running(int stream, ByteString job, ByteString node, long micros) {
    return StreamCounters.newBuilder()
        .setStreamId(bytes(20, stream))
        .setTaskId(job.concat(bytes(12, stream)))
        .setFunctionName("G.g")
        .setState("RUNNING")
        .setOwnerNodeId(node)
        .setProduced(micros)
        .setTimeMicros(micros)
        .build();
  }

  private static void report(StateGrpcService s, StreamCounters... c) {
    s.reportTaskEvents(
        TaskEventBatch.newBuilder().addAllStreams(List.of(c)).build(),
        new Collect<ReportTaskEventsReply>());
  }

  private static List<String> states(StateGrpcService s) throws Exception {
    Collect<ListStreamsReply> out = new Collect<>();
    s.listStreams(StateRequest.getDefaultInstance(), out); // answered on a thread of its own
    return out.first.get(30, TimeUnit.SECONDS).getStreamsList().stream()
        .map(StreamRow::getCounters)
        .map(StreamCounters::getState)
        .toList();
  }

  /**
   * Rule: when the owner's node dies, its running streams end as OWNER_DIED (not RUNNING forever);
   * streams owned elsewhere and streams already ended keep their state; a late RUNNING report does
   * not revive it.
   */
  @Test
  void aDeadNodesRunningStreamsEndAsOwnerDied() throws Exception {
    StateGrpcService s = new StateGrpcService(List::of, List::of, t -> null, 100);
    ByteString job = bytes(4, 1);
    report(
        s,
        running(1, job, NODE_A, 10),
        running(2, job, NODE_B, 10),
        running(3, job, NODE_A, 10).toBuilder().setState("FINISHED").build());
    s.nodeDied(NODE_A);
    assertThat(states(s)).containsExactly("OWNER_DIED", "RUNNING", "FINISHED");
    report(s, running(1, job, NODE_A, 20));
    assertThat(states(s).getFirst()).isEqualTo("OWNER_DIED");
  }

  /** Rule: when a job ends, its running streams end as OWNER_DIED; other jobs' streams run on. */
  @Test
  void anEndedJobsRunningStreamsEndAsOwnerDied() throws Exception {
    StateGrpcService s = new StateGrpcService(List::of, List::of, t -> null, 100);
    ByteString job1 = bytes(4, 1);
    ByteString job2 = bytes(4, 2);
    report(s, running(1, job1, NODE_A, 10), running(2, job2, NODE_A, 10));
    s.jobFinished(job1);
    assertThat(states(s)).containsExactly("OWNER_DIED", "RUNNING");
  }

  private static final class Collect<T> implements StreamObserver<T> {
    final CompletableFuture<T> first = new CompletableFuture<>();

    @Override
    public void onNext(T value) {
      first.complete(value);
    }

    @Override
    public void onError(Throwable t) {
      first.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {}
  }
}
