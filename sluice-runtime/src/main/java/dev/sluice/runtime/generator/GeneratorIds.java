package dev.sluice.runtime.generator;

import dev.sluice.ObjectId;
import dev.sluice.TaskId;

/**
 * The one place that computes a streaming generator's object ids: the generator ref is {@code
 * ObjectId(T, 1)} and yield {@code k} is {@code ObjectId(T, 2 + k)}. Item indices stay below {@link
 * ObjectId#PUT_INDEX_BASE}, where {@code put} objects start. Stateless and thread-safe.
 */
public final class GeneratorIds {
  /** Object index of the generator ref. */
  private static final int GENERATOR_INDEX = 1;

  /** Object index of yield 0. */
  private static final int FIRST_ITEM_INDEX = 2;

  /** The largest yield index: its object index is {@link ObjectId#PUT_INDEX_BASE}. */
  public static final long MAX_ITEM_INDEX = ObjectId.PUT_INDEX_BASE - FIRST_ITEM_INDEX;

  private GeneratorIds() {}

  /** The generator ref of task {@code task}: {@code ObjectId(task, 1)}. */
  public static ObjectId generatorId(TaskId task) {
    return ObjectId.of(task, GENERATOR_INDEX);
  }

  /**
   * The object of yield {@code k} of task {@code task}: {@code ObjectId(task, 2 + k)}.
   *
   * @throws IllegalArgumentException if {@code k} is negative
   * @throws IllegalStateException if {@code k} passes {@link #MAX_ITEM_INDEX}: the generator
   *     yielded more items than object ids allow
   */
  public static ObjectId itemId(TaskId task, long k) {
    if (k < 0) {
      throw new IllegalArgumentException(
          "generator task " + task + ": item index must be >= 0, got " + k);
    }
    if (k > MAX_ITEM_INDEX) {
      throw new IllegalStateException(
          "generator task "
              + task
              + " yielded more than "
              + (MAX_ITEM_INDEX + 1)
              + " items: item "
              + k
              + " has no object id (item ids must stay"
              + " below the put ids, ObjectId.PUT_INDEX_BASE)");
    }
    return ObjectId.of(task, Math.toIntExact(FIRST_ITEM_INDEX + k));
  }

  /**
   * The yield index of a generator item's object id: the inverse of {@link #itemId}.
   *
   * @throws IllegalArgumentException if {@code id} is not an item id (the generator ref, or a put)
   */
  public static long itemIndex(ObjectId id) {
    int index = id.index();
    if (index < FIRST_ITEM_INDEX || index > ObjectId.PUT_INDEX_BASE) {
      throw new IllegalArgumentException(
          "object "
              + id
              + " of task "
              + id.taskId()
              + " is not a generator item (index "
              + index
              + ")");
    }
    return index - FIRST_ITEM_INDEX;
  }
}
