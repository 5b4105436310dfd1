package dev.sluice.runtime.owner;

import dev.sluice.ObjectId;
import dev.sluice.runtime.rpc.proto.Address;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * A fake {@link RefTable.Listener} for the tests of the reference table's pieces: records each
 * registration asked for (leaving it pending) and each entry that went out of scope, and runs an
 * optional extra action on the latter.
 */
final class RecordingTableListener implements RefTable.Listener {
  /** One registration the table asked for. */
  record Registration(ObjectId id, Address owner, CompletableFuture<Void> done) {}

  final List<Registration> registrations = new CopyOnWriteArrayList<>();
  final List<ObjectId> outOfScope = new CopyOnWriteArrayList<>();
  volatile BiConsumer<ObjectId, RefTable.Entry> onOutOfScope = (id, e) -> {};

  @Override
  public void register(ObjectId id, Address owner, CompletableFuture<Void> done) {
    registrations.add(new Registration(id, owner, done));
  }

  @Override
  public void outOfScope(ObjectId id, RefTable.Entry e) {
    outOfScope.add(id);
    onOutOfScope.accept(id, e);
  }
}
