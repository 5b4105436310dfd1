package dev.sluice.runtime.owner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.owner.ReferenceCounter.Nested;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.Address;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The serializer's collection scopes: a scope returns the refs noted within it, an outer scope also
 * sees its inner scopes' refs, nothing is kept outside a scope, and scopes are per thread.
 */
@Timeout(10)
class NestedRefCollectorTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(5)), 1);
  private static final Address OWNER =
      Addresses.of(WorkerId.random(), NodeId.random(), "127.0.0.1", 1001);

  private final NestedRefCollector collector = new NestedRefCollector();

  private static Nested ref(int i) {
    return new Nested(ObjectId.of(TASK, i), OWNER);
  }

  private void note(Nested r) {
    collector.note(r.id(), r.owner());
  }

  @Test
  void aScopeReturnsTheRefsNotedWithinIt() {
    int mark = collector.begin();
    note(ref(1));
    note(ref(2));

    assertThat(collector.end(mark)).containsExactly(ref(1), ref(2));
  }

  @Test
  void refsNotedOutsideAnyScopeAreNotKept() {
    note(ref(1));

    int mark = collector.begin();
    assertThat(collector.end(mark)).isEmpty();
  }

  @Test
  void anOuterScopeAlsoSeesTheRefsOfItsInnerScopes() {
    int outer = collector.begin();
    note(ref(1));
    int inner = collector.begin();
    note(ref(2));
    assertThat(collector.end(inner)).containsExactly(ref(2));
    note(ref(3));

    assertThat(collector.end(outer)).containsExactly(ref(1), ref(2), ref(3));
  }

  @Test
  void nothingIsKeptOnceTheOutermostScopeEnds() {
    collector.end(collector.begin());
    int first = collector.begin();
    note(ref(1));
    collector.end(first);

    int next = collector.begin();
    assertThat(next).as("a new outermost scope starts empty").isZero();
    assertThat(collector.end(next)).isEmpty();
  }

  @Test
  void scopesArePerThread() throws Exception {
    int mark = collector.begin();
    note(ref(1));

    List<Nested> otherThread =
        CompletableFuture.supplyAsync(
                () -> {
                  int m = collector.begin();
                  note(ref(2));
                  return collector.end(m);
                })
            .get(5, TimeUnit.SECONDS);

    assertThat(otherThread).containsExactly(ref(2));
    assertThat(collector.end(mark)).containsExactly(ref(1));
  }
}
