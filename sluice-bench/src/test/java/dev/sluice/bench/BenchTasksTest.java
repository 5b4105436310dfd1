package dev.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

/** The bench's generator task functions, run in this JVM without a cluster. */
class BenchTasksTest {
  private static <T> List<T> drain(Iterator<T> it) {
    List<T> items = new ArrayList<>();
    while (it.hasNext()) {
      items.add(it.next());
    }
    assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
    return items;
  }

  @Test
  void freshChunksYieldsAFreshArrayPerItemHoldingItsIndexEverywhere() {
    List<byte[]> items = drain(BenchTasks.freshChunks(3, 8));
    assertThat(items).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(items.get(i)).containsOnly((byte) i).hasSize(8);
    }
    assertThat(items.get(0)).isNotSameAs(items.get(1));
  }

  @Test
  void chunksYieldsOneSharedArray() {
    List<byte[]> items = drain(BenchTasks.chunks(2, 8192));
    assertThat(items).hasSize(2);
    assertThat(items.get(0)).isSameAs(items.get(1)).hasSize(8192);
  }

  @Test
  void rangeYieldsZeroToNMinusOneAndRangeZeroNothing() {
    assertThat(drain(BenchTasks.range(4))).containsExactly(0, 1, 2, 3);
    assertThat(drain(BenchTasks.range(0))).isEmpty();
  }
}
