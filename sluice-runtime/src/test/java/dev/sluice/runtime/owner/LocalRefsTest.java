package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Local counts, released explicitly ({@code ref.release()} runs the same cleaner action the garbage
 * collector would; collection itself is covered by ReferenceCounterTest): each instance is one
 * count, released once; a ref carrying a streamed item's value is not counted until it is counted,
 * which stores the value and happens once.
 */
@Timeout(10)
class LocalRefsTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(8)), 1);
  private static final Address SELF =
      Addresses.of(WorkerId.random(), NodeId.random(), "127.0.0.1", 1001);
  private static final ObjectValue VALUE =
      ObjectValue.newBuilder().setData(ByteString.copyFromUtf8("item")).build();

  private final RecordingTableListener listener = new RecordingTableListener();
  private final RefTable table = new RefTable(SELF, listener);
  private final MemoryStore store = new MemoryStore();
  private final LocalRefs local = new LocalRefs(table, store, null);
  private final ObjectId id = ObjectId.of(TASK, 1);

  @Test
  void eachNewRefIsOneLocalCountUntilReleased() {
    ObjectRefImpl<Object> first = local.newRef(id, SELF);
    ObjectRefImpl<Object> second = local.newRef(id, SELF);

    first.release();
    assertThat(table.contains(id)).as("the second ref still counts").isTrue();

    second.release();
    assertThat(table.contains(id)).isFalse();
    assertThat(listener.outOfScope).containsExactly(id);
  }

  @Test
  void releasingARefTwiceReleasesItsCountOnce() {
    ObjectRefImpl<Object> kept = local.newRef(id, SELF);
    ObjectRefImpl<Object> released = local.newRef(id, SELF);

    released.release();
    released.release();

    assertThat(table.contains(id)).as("kept still counts").isTrue();
    kept.release();
    assertThat(table.contains(id)).isFalse();
  }

  @Test
  void aCarriedItemRefIsNotCountedUntilCounted() {
    ObjectRefImpl<Object> ref = local.carrying(id, SELF, VALUE);

    assertThat(ref.carriedValue()).isEqualTo(VALUE);
    assertThat(table.contains(id)).isFalse();
    assertThat(store.find(id)).isNull();
  }

  @Test
  void countingACarriedItemRefStoresItsValueAndCountsItOnce() {
    ObjectRefImpl<Object> ref = local.carrying(id, SELF, VALUE);

    local.count(ref);
    local.count(ref);
    assertThat(table.contains(id)).isTrue();
    assertThat(store.find(id)).isCompletedWithValue(VALUE);

    ref.release();
    assertThat(table.contains(id)).as("one release undoes the one count").isFalse();
  }

  @Test
  void aReleasedCarriedItemRefCannotBeCounted() {
    ObjectRefImpl<Object> ref = local.carrying(id, SELF, VALUE);
    ref.release();

    assertThatThrownBy(() -> local.count(ref)).isInstanceOf(IllegalStateException.class);
    assertThat(table.contains(id)).isFalse();
  }
}
