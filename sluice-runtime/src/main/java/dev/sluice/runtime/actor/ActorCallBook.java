package dev.sluice.runtime.actor;

import com.google.protobuf.ByteString;
import dev.sluice.ActorId;
import dev.sluice.TaskId;
import dev.sluice.runtime.rpc.proto.TaskSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One caller's calls to one actor that have no final outcome yet, for its {@link ActorClient}
 * (DESIGN "Actors", the actor call order rule, caller side): numbers each new call (0, 1, 2, …, the
 * number written into its spec), tracks whether its arguments are ready and whether it was sent,
 * and says how far the caller has got: every number below {@link #processedUpTo} has its outcome or
 * will never be sent.
 *
 * <p>Threads: not thread-safe; the client calls it holding its own monitor.
 */
final class ActorCallBook {

  /** One call: its number, its spec as numbered (and resolved once ready), and its progress. */
  static final class Call {
    final long seq;
    final TaskId id;
    TaskSpec spec;
    boolean ready;
    boolean sent;

    private Call(long seq, TaskSpec spec) {
      this.seq = seq;
      this.id = TaskId.fromBytes(spec.getTaskId().toByteArray());
      this.spec = spec;
    }
  }

  private final ActorId actorId;
  private final ByteString callerId;
  private long nextSeq;

  /** Calls without a final outcome, by number. */
  private final TreeMap<Long, Call> calls = new TreeMap<>();

  private final Map<TaskId, Call> byId = new HashMap<>();

  ActorCallBook(ActorId actorId, ByteString callerId) {
    this.actorId = actorId;
    this.callerId = callerId;
  }

  /** A new call, numbered after every call so far. */
  Call add(TaskSpec spec) {
    long seq = nextSeq++;
    Call c = new Call(seq, numbered(spec, seq));
    calls.put(seq, c);
    byId.put(c.id, c);
    return c;
  }

  /**
   * A new attempt of {@code c} with {@code spec}: it keeps its number, and waits to be resolved.
   */
  TaskSpec renumber(Call c, TaskSpec spec) {
    c.spec = numbered(spec, c.seq);
    c.ready = false;
    c.sent = false;
    return c.spec;
  }

  /** The call with id {@code id}, or null. */
  Call get(TaskId id) {
    return byId.get(id);
  }

  /** Whether {@code c} is still one of the calls without an outcome. */
  boolean holds(Call c) {
    return calls.get(c.seq) == c;
  }

  void remove(Call c) {
    calls.remove(c.seq);
    byId.remove(c.id);
  }

  /** Marks every ready call not yet sent as sent, and returns their specs in number order. */
  List<TaskSpec> takeReady() {
    List<TaskSpec> out = new ArrayList<>();
    for (Call c : calls.values()) {
      if (c.ready && !c.sent) {
        c.sent = true;
        out.add(c.spec);
      }
    }
    return out;
  }

  /**
   * The calls sent so far, now unsent and waiting to be resolved again (their instance is gone).
   */
  List<Call> unsendAll() {
    List<Call> out = new ArrayList<>();
    for (Call c : calls.values()) {
      if (c.sent) {
        c.sent = false;
        c.ready = false;
        out.add(c);
      }
    }
    return out;
  }

  /** Forgets every call and returns their ids. */
  List<TaskId> clear() {
    List<TaskId> ids = new ArrayList<>(calls.size());
    for (Call c : calls.values()) {
      ids.add(c.id);
    }
    calls.clear();
    byId.clear();
    return ids;
  }

  /** Every call numbered below the mark has its outcome or will never be sent. */
  long processedUpTo() {
    return calls.isEmpty() ? nextSeq : calls.firstKey();
  }

  int size() {
    return calls.size();
  }

  private TaskSpec numbered(TaskSpec spec, long seq) {
    return spec.toBuilder()
        .setActorCall(
            spec.getActorCall().toBuilder()
                .setActorId(ByteString.copyFrom(actorId.toBytes()))
                .setCallerId(callerId)
                .setSequenceNumber(seq))
        .build();
  }
}
