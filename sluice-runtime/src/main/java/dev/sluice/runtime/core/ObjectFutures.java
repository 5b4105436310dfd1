package dev.sluice.runtime.core;

import dev.sluice.ObjectId;
import dev.sluice.ObjectRef;
import dev.sluice.WorkerId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.owner.MemoryStore;
import dev.sluice.runtime.owner.ObjectRefImpl;
import dev.sluice.runtime.owner.ReferenceCounter;
import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.proto.ErrorType;
import dev.sluice.runtime.rpc.proto.ObjectRefInfo;
import dev.sluice.runtime.rpc.proto.ObjectValue;
import java.util.concurrent.CompletableFuture;

/**
 * Where the value of an object comes from (DESIGN "Core worker", how {@code get} finds a value):
 * the ref itself if it carries its value, else this process's memory store, else, if another
 * process owns the object, its owner ({@code GetObject}, a long poll answered when the value is
 * ready). The futures complete with the value as it travels (inline, a location in a store, or an
 * error); reading it is {@link ObjectResolver}'s job.
 *
 * <p>Threads: any thread, never blocks; replies from owners complete futures on transport threads.
 */
final class ObjectFutures {
  private final MemoryStore store;
  private final ReferenceCounter refs;
  private final CoreWorkerClient owners;
  private final RefGuard guard;
  private final WorkerId workerId;

  ObjectFutures(
      MemoryStore store,
      ReferenceCounter refs,
      CoreWorkerClient owners,
      RefGuard guard,
      WorkerId workerId) {
    this.store = store;
    this.refs = refs;
    this.owners = owners;
    this.guard = guard;
    this.workerId = workerId;
  }

  /** The value of the object of {@code ref}, as it becomes known. */
  CompletableFuture<ObjectValue> future(ObjectRef<?> ref) {
    ObjectRefImpl<?> r = guard.impl(ref);
    ObjectValue carried = r.carriedValue();
    if (carried != null) {
      return CompletableFuture.completedFuture(carried);
    }
    CompletableFuture<ObjectValue> f = store.find(r.id());
    if (f != null) {
      return f;
    }
    if (guard.isOwnedHere(r)) {
      return CompletableFuture.completedFuture(
          Errors.value(
              Errors.error(
                  ErrorType.OBJECT_LOST,
                  "object "
                      + r.id()
                      + " is unknown to its owner "
                      + workerId
                      + " (never created here, or freed)")));
    }
    return resolve(r.toInfo());
  }

  /** The value of an object: from this store if owned or cached, else fetched from its owner. */
  CompletableFuture<ObjectValue> resolve(ObjectRefInfo info) {
    ObjectId id = ObjectId.fromBytes(info.getObjectId().toByteArray());
    CompletableFuture<ObjectValue> local = store.find(id);
    if (local != null) {
      return local;
    }
    CompletableFuture<ObjectValue> f = store.expect(id);
    if (!refs.isReferenced(id)) {
      // Nothing here holds the object: fetch it without keeping a cached copy.
      store.remove(id);
    }
    String target = Addresses.target(info.getOwner());
    owners
        .getObject(info.getOwner(), info.getObjectId())
        .whenComplete(
            (reply, t) -> {
              if (t == null) {
                f.complete(reply.getValue());
                return;
              }
              store.remove(id);
              f.complete(
                  Errors.value(
                      Errors.error(
                          ErrorType.OWNER_DIED,
                          "the owner of object "
                              + id
                              + " (worker "
                              + Addresses.workerId(info.getOwner())
                              + " at "
                              + target
                              + ") is unreachable: "
                              + t.getMessage())));
            });
    return f;
  }
}
