package dev.sluice.runtime.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.NodeId;
import dev.sluice.TaskId;
import dev.sluice.TaskState;
import dev.sluice.TaskStatus;
import dev.sluice.WorkerId;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Chrome trace writer. */
class TimelineWriterTest {
  private static TaskState attempt(
      int attempt, NodeId node, WorkerId worker, Instant start, Instant end) {
    return new TaskState(
        TaskId.fromBytes(new byte[16]),
        attempt,
        "f",
        "Demo.f",
        "NORMAL_TASK",
        end == null ? TaskStatus.RUNNING : TaskStatus.FINISHED,
        false,
        null,
        node,
        worker,
        null,
        start,
        start,
        end,
        null,
        null);
  }

  /**
   * Rule: one complete slice per started attempt, pid = node, tid = worker; unstarted ones skipped.
   */
  @Test
  void oneSlicePerStartedAttempt() {
    NodeId n = NodeId.random();
    WorkerId w1 = WorkerId.random();
    WorkerId w2 = WorkerId.random();
    Instant t0 = Instant.ofEpochSecond(1_000);
    String json =
        TimelineWriter.trace(
            List.of(
                attempt(0, n, w1, t0, t0.plusMillis(5)),
                attempt(1, n, w2, t0.plusMillis(10), null),
                attempt(2, null, null, null, null)),
            t0.plusMillis(20));
    assertThat(json).startsWith("{\"traceEvents\":[").endsWith("\"displayTimeUnit\":\"ms\"}");
    assertThat(json.split("\"ph\":\"X\"", -1)).hasSize(3);
    assertThat(json).contains("\"ts\":1000000000,\"dur\":5000,\"pid\":1,\"tid\":1");
    assertThat(json).contains("\"ts\":1000010000,\"dur\":10000,\"pid\":1,\"tid\":2");
    assertThat(json).contains("\"args\":{\"name\":\"node " + n.hex() + "\"}");
    assertThat(json).contains("\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":2");
  }
}
