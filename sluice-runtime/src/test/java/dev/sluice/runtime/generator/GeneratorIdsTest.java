package dev.sluice.runtime.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.JobId;
import dev.sluice.ObjectId;
import dev.sluice.TaskId;
import org.junit.jupiter.api.Test;

/**
 * The streaming generator's id rule: ref {@code ObjectId(T, 1)}, yield k {@code ObjectId(T, 2+k)}.
 */
class GeneratorIdsTest {
  private static final TaskId TASK = TaskId.forChild(TaskId.forDriver(JobId.of(7)), 1);

  @Test
  void generatorRefIsIndexOneOfItsTask() {
    ObjectId id = GeneratorIds.generatorId(TASK);
    assertThat(id.taskId()).isEqualTo(TASK);
    assertThat(id.index()).isEqualTo(1);
  }

  @Test
  void yieldKIsIndexTwoPlusK() {
    assertThat(GeneratorIds.itemId(TASK, 0)).isEqualTo(ObjectId.of(TASK, 2));
    assertThat(GeneratorIds.itemId(TASK, 41)).isEqualTo(ObjectId.of(TASK, 43));
    assertThat(GeneratorIds.itemId(TASK, 41).taskId()).isEqualTo(TASK);
  }

  @Test
  void itemIndexInvertsItemId() {
    for (long k : new long[] {0, 1, 7, 1_000_000, GeneratorIds.MAX_ITEM_INDEX}) {
      assertThat(GeneratorIds.itemIndex(GeneratorIds.itemId(TASK, k))).isEqualTo(k);
    }
  }

  @Test
  void itemIndexRejectsTheGeneratorRefAndPuts() {
    assertThatThrownBy(() -> GeneratorIds.itemIndex(GeneratorIds.generatorId(TASK)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(TASK.toString());
    assertThatThrownBy(() -> GeneratorIds.itemIndex(ObjectId.of(TASK, ObjectId.PUT_INDEX_BASE + 1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void itemIdsStayBelowThePutIds() {
    ObjectId last = GeneratorIds.itemId(TASK, GeneratorIds.MAX_ITEM_INDEX);
    assertThat(last.isPut()).isFalse();
    assertThat(last.index()).isEqualTo(ObjectId.PUT_INDEX_BASE);
  }

  @Test
  void tooManyItemsFailNamingTheTask() {
    assertThatThrownBy(() -> GeneratorIds.itemId(TASK, GeneratorIds.MAX_ITEM_INDEX + 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(TASK.toString())
        .hasMessageContaining("PUT_INDEX_BASE");
    assertThatThrownBy(() -> GeneratorIds.itemId(TASK, Long.MAX_VALUE - 1))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> GeneratorIds.itemId(TASK, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(TASK.toString());
  }
}
