package dev.sluice.runtime.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.TaskEvent;
import org.junit.jupiter.api.Test;

/** The task event buffer: bounded, counting what it drops, drained in batches. */
class TaskEventBufferTest {
  private static TaskEvent event(int i) {
    return TaskEvent.newBuilder().setTaskId(ByteString.copyFromUtf8("t" + i)).build();
  }

  /** Rule: a full buffer drops new events and counts them; the count travels with one drain. */
  @Test
  void aFullBufferDropsAndCounts() {
    TaskEventBuffer<TaskEvent> b = new TaskEventBuffer<>(3);
    for (int i = 0; i < 5; i++) {
      b.add(event(i));
    }
    assertThat(b.size()).isEqualTo(3);
    TaskEventBuffer.Drained<TaskEvent> d = b.drain(10);
    assertThat(d.events())
        .extracting(e -> e.getTaskId().toStringUtf8())
        .containsExactly("t0", "t1", "t2");
    assertThat(d.dropped()).isEqualTo(2);
    assertThat(b.drain(10).dropped()).isZero();
  }

  /** Rule: a drain takes at most one batch, oldest first. */
  @Test
  void drainsInBatchesOldestFirst() {
    TaskEventBuffer<TaskEvent> b = new TaskEventBuffer<>(100);
    for (int i = 0; i < 5; i++) {
      b.add(event(i));
    }
    assertThat(b.drain(2).events())
        .extracting(e -> e.getTaskId().toStringUtf8())
        .containsExactly("t0", "t1");
    assertThat(b.drain(2).events())
        .extracting(e -> e.getTaskId().toStringUtf8())
        .containsExactly("t2", "t3");
    assertThat(b.drain(2).events()).hasSize(1);
  }
}
