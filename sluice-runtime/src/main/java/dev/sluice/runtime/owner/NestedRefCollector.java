package dev.sluice.runtime.owner;

import dev.sluice.ObjectId;
import dev.sluice.runtime.owner.ReferenceCounter.Nested;
import dev.sluice.runtime.rpc.proto.Address;
import java.util.ArrayList;
import java.util.List;

/**
 * The per-thread collection scopes in which the serializer reports the refs it writes (DESIGN
 * "Reference counting", "Nested refs are found by the serializer"). Scopes nest: an outer scope
 * also sees the refs of the scopes inside it; refs noted outside any scope are not kept.
 *
 * <p>Threads: each thread has its own scopes (a thread-local); no lock.
 */
final class NestedRefCollector {
  /** One thread's scopes: refs noted while {@code depth > 0}, innermost last. */
  private static final class Scopes {
    int depth;
    ArrayList<Nested> refs;
  }

  private final ThreadLocal<Scopes> scopes = ThreadLocal.withInitial(Scopes::new);

  /** Opens a scope on the calling thread; returns the mark to pass to {@link #end}. */
  int begin() {
    Scopes s = scopes.get();
    s.depth++;
    return s.refs == null ? 0 : s.refs.size();
  }

  /** Closes the scope opened with {@code mark}; returns the refs noted within it. */
  List<Nested> end(int mark) {
    Scopes s = scopes.get();
    List<Nested> mine =
        s.refs == null || s.refs.size() == mark
            ? List.of()
            : List.copyOf(s.refs.subList(mark, s.refs.size()));
    if (--s.depth == 0) {
      s.refs = null;
    }
    return mine;
  }

  /** Notes the ref to {@code id} owned by {@code owner} in the calling thread's open scopes. */
  void note(ObjectId id, Address owner) {
    Scopes s = scopes.get();
    if (s.depth > 0) {
      if (s.refs == null) {
        s.refs = new ArrayList<>(4);
      }
      s.refs.add(new Nested(id, owner));
    }
  }
}
