package dev.sluice.runtime.actor;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One caller's numbering in an {@link ActorCallQueue}: which of its call numbers are taken and, for
 * an ordered queue, whose turn it is (the actor call order rule, DESIGN "Actors").
 *
 * <p>{@code next} only moves forward. It starts at the {@code processedUpTo} of the caller's first
 * message and is raised by every later {@code processedUpTo} above it. In an ordered queue it is
 * also the number whose turn it is: every number below it has been released to run, was skipped
 * (cancelled while held) or will never arrive; a call numbered above it is held until the numbers
 * between have been released or skipped. In an unordered queue every new call is released at once
 * and {@code next} only bounds the set of numbers remembered as taken.
 *
 * <p>A number is taken when it is below {@code next}, held, or remembered in {@code taken}
 * (ordered: cancelled while held; unordered: every accepted number at or above {@code next}). A
 * call with a taken number is a duplicate and must not run.
 *
 * <p>Not thread-safe: the queue calls it under its lock.
 *
 * @param <E> the queue's entry for one call
 */
final class CallerSequence<E> {
  private final boolean ordered;
  private long next;

  /** Ordered queues: arrived early, waiting for their turn, by number. */
  private final TreeMap<Long, E> held = new TreeMap<>();

  /** Numbers at or above {@code next} that are taken and not held. */
  private final TreeSet<Long> taken = new TreeSet<>();

  CallerSequence(boolean ordered, long processedUpTo) {
    this.ordered = ordered;
    this.next = Math.max(0, processedUpTo);
  }

  /** Whether a call numbered {@code seq} would be new (not a duplicate or stale copy). */
  boolean isNew(long seq) {
    return seq >= next && !held.containsKey(seq) && !taken.contains(seq);
  }

  /**
   * The caller reports every call below {@code processedUpTo} finished or never to be sent. Raises
   * {@code next} and returns the held calls now below it, removed: the caller says their numbers
   * are done, so they are stale copies and must not run. Call {@link #releasable} afterwards.
   */
  List<E> raiseFloor(long processedUpTo) {
    if (processedUpTo <= next) {
      return List.of();
    }
    next = processedUpTo;
    taken.headSet(next).clear();
    var below = held.headMap(next);
    List<E> stale = new ArrayList<>(below.values());
    below.clear();
    return stale;
  }

  /**
   * Accepts new call {@code e} numbered {@code seq} ({@link #isNew} must hold) and returns the
   * calls released by it, in number order: in an ordered queue those whose turn has now come (none
   * if {@code e} arrived early), in an unordered one {@code e} itself.
   */
  List<E> accept(long seq, E e) {
    if (!ordered) {
      taken.add(seq);
      return List.of(e);
    }
    held.put(seq, e);
    return releasable();
  }

  /**
   * Removes and returns, in number order, the held calls whose turn has come, moving {@code next}
   * past them and past skipped numbers. Always empty in an unordered queue.
   */
  List<E> releasable() {
    if (!ordered) {
      return List.of();
    }
    List<E> out = new ArrayList<>(1);
    while (true) {
      if (taken.remove(next)) {
        next++;
      } else if (held.containsKey(next)) {
        out.add(held.remove(next));
        next++;
      } else {
        return out;
      }
    }
  }

  /**
   * Removes held call {@code seq}; its number stays taken and, in an ordered queue, is skipped when
   * its turn comes, so later calls are not stuck behind it. Returns whether it was held.
   */
  boolean removeHeld(long seq) {
    if (held.remove(seq) == null) {
      return false;
    }
    taken.add(seq);
    return true;
  }

  /** Removes and returns every held call, in number order. */
  List<E> removeAllHeld() {
    List<E> out = new ArrayList<>(held.values());
    held.clear();
    return out;
  }

  /** How many calls are held. */
  int heldCount() {
    return held.size();
  }
}
