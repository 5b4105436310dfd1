package dev.sluice.runtime.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.sluice.ActorDiedException.Reason;
import dev.sluice.ActorId;
import dev.sluice.ActorLifetime;
import dev.sluice.JobId;
import dev.sluice.NodeId;
import dev.sluice.TaskId;
import dev.sluice.WorkerId;
import dev.sluice.runtime.control.ActorEntry.State;
import dev.sluice.runtime.control.ActorTable.NameTaken;
import dev.sluice.runtime.control.ActorTable.Registered;
import dev.sluice.runtime.control.ActorTable.Update;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The actor lifecycle rule, as the {@link ActorTable} decides it. */
class ActorTableTest {
  private static final JobId JOB = JobId.of(7);
  private static final NodeId NODE = NodeId.random();
  private static final NodeId OTHER_NODE = NodeId.random();
  private static final AtomicLong TASKS = new AtomicLong();

  private final ActorTable table = new ActorTable();
  private final WorkerAddress driver = address(NODE);

  private static WorkerAddress address(NodeId node) {
    return new WorkerAddress(WorkerId.random(), node, "127.0.0.1", 40_000);
  }

  private static ActorId newId(JobId job) {
    return ActorId.of(TaskId.forChild(TaskId.forDriver(job), TASKS.incrementAndGet()));
  }

  private ActorEntry spec(String name, ActorLifetime lifetime, int maxRestarts) {
    return ActorEntry.pending(
        newId(JOB), name, "demo.Counter", driver, lifetime, maxRestarts, 0, 1);
  }

  private ActorEntry registered(ActorEntry spec) {
    return ((Registered) table.register(spec)).entry();
  }

  private ActorEntry alive(ActorEntry spec, NodeId node) {
    registered(spec);
    return table.created(spec.id(), 0, address(node)).orElseThrow().entry();
  }

  @Test
  void registeredActorIsPendingAtVersionOne() {
    ActorEntry e = registered(spec("counter", ActorLifetime.OWNED, 0));
    assertThat(e.state()).isEqualTo(State.PENDING);
    assertThat(e.version()).isEqualTo(1);
    assertThat(e.numRestarts()).isZero();
    assertThat(e.address()).isNull();
    assertThat(table.get(e.id())).contains(e);
  }

  @Test
  void nameIsUniqueAmongLiveActors() {
    ActorEntry first = registered(spec("counter", ActorLifetime.OWNED, 0));
    ActorEntry second = spec("counter", ActorLifetime.OWNED, 0);
    assertThat(table.register(second)).isEqualTo(new NameTaken(first));
    assertThat(table.get(second.id())).isEmpty();
  }

  @Test
  void nameIsFreeAgainOnceTheActorIsDead() {
    ActorEntry first = registered(spec("counter", ActorLifetime.OWNED, 0));
    table.kill(first.id());
    ActorEntry second = spec("counter", ActorLifetime.OWNED, 0);
    assertThat(table.register(second)).isInstanceOf(Registered.class);
    assertThat(table.getByName("counter").orElseThrow().id()).isEqualTo(second.id());
  }

  @Test
  void registeringTheSameIdAgainIsIdempotent() {
    ActorEntry spec = spec("counter", ActorLifetime.OWNED, 0);
    registered(spec);
    ActorEntry now = table.created(spec.id(), 0, address(NODE)).orElseThrow().entry();
    assertThat(table.register(spec)).isEqualTo(new Registered(now));
  }

  @Test
  void getByNameFindsOnlyLiveActors() {
    ActorEntry e = registered(spec("counter", ActorLifetime.OWNED, 0));
    assertThat(table.getByName("counter")).contains(e);
    table.kill(e.id());
    assertThat(table.getByName("counter")).isEmpty();
    assertThat(table.get(e.id()).orElseThrow().state()).isEqualTo(State.DEAD);
  }

  @Test
  void createdMakesThePendingActorAliveAtItsAddress() {
    ActorEntry spec = spec("", ActorLifetime.OWNED, 0);
    registered(spec);
    WorkerAddress at = address(OTHER_NODE);
    Update u = table.created(spec.id(), 0, at).orElseThrow();
    assertThat(u.changed()).isTrue();
    assertThat(u.entry().state()).isEqualTo(State.ALIVE);
    assertThat(u.entry().address()).isEqualTo(at);
    assertThat(u.entry().nodeId()).isEqualTo(OTHER_NODE);
    assertThat(u.entry().version()).isEqualTo(2);
  }

  @Test
  void creationReportOfAStaleInstanceIsIgnored() {
    ActorEntry e = alive(spec("", ActorLifetime.OWNED, 2), NODE);
    table.workerDied(e.id(), e.address().workerId(), NODE, "exit code 137");
    Update late = table.created(e.id(), 0, address(NODE)).orElseThrow();
    assertThat(late.changed()).isFalse();
    assertThat(late.entry().state()).isEqualTo(State.RESTARTING);
    assertThat(table.created(e.id(), 1, address(NODE)).orElseThrow().changed()).isTrue();
  }

  @Test
  void reportsAboutAnUnknownActorFindNothing() {
    ActorId unknown = newId(JOB);
    assertThat(table.created(unknown, 0, address(NODE))).isEmpty();
    assertThat(table.kill(unknown)).isEmpty();
    assertThat(table.workerDied(unknown, WorkerId.random(), NODE, "")).isEmpty();
    assertThat(table.watch(unknown, e -> {})).isEmpty();
  }

  @Test
  void constructorFailureIsFinalWithItsCause() {
    ActorEntry spec = spec("counter", ActorLifetime.OWNED, 3);
    registered(spec);
    byte[] cause = {1, 2, 3};
    Update u =
        table
            .creationFailed(
                spec.id(),
                0,
                Reason.CONSTRUCTOR_FAILED,
                OTHER_NODE,
                "IllegalStateException: bad start",
                cause)
            .orElseThrow();
    ActorDeath death = u.entry().death();
    assertThat(u.entry().state()).isEqualTo(State.DEAD);
    assertThat(death.reason()).isEqualTo(Reason.CONSTRUCTOR_FAILED);
    assertThat(death.serializedCause()).containsExactly(1, 2, 3);
    assertThat(death.message())
        .contains("demo.Counter", "'counter'", spec.id().hex(), OTHER_NODE.hex())
        .contains("constructor threw", "bad start");
    assertThat(table.created(spec.id(), 0, address(NODE)).orElseThrow().changed()).isFalse();
  }

  @Test
  void onlyCreationReasonsAreCreationFailures() {
    ActorEntry e = registered(spec("", ActorLifetime.OWNED, 0));
    assertThatThrownBy(() -> table.creationFailed(e.id(), 0, Reason.KILLED, NODE, "", null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void workerDeathWithRestartsLeftRestarts() {
    ActorEntry e = alive(spec("", ActorLifetime.OWNED, 1), NODE);
    Update u =
        table.workerDied(e.id(), e.address().workerId(), NODE, "killed by signal 9").orElseThrow();
    assertThat(u.changed()).isTrue();
    assertThat(u.entry().state()).isEqualTo(State.RESTARTING);
    assertThat(u.entry().numRestarts()).isEqualTo(1);
    assertThat(u.entry().address()).isNull();
    WorkerAddress next = address(OTHER_NODE);
    ActorEntry again = table.created(e.id(), 1, next).orElseThrow().entry();
    assertThat(again.state()).isEqualTo(State.ALIVE);
    assertThat(again.address()).isEqualTo(next);
  }

  @Test
  void workerDeathWithNoRestartsLeftIsProcessDied() {
    ActorEntry e = alive(spec("counter", ActorLifetime.OWNED, 1), OTHER_NODE);
    table.workerDied(e.id(), e.address().workerId(), OTHER_NODE, "exit code 1");
    WorkerAddress second = address(OTHER_NODE);
    table.created(e.id(), 1, second);
    ActorEntry dead =
        table
            .workerDied(e.id(), second.workerId(), OTHER_NODE, "exit code 137")
            .orElseThrow()
            .entry();
    assertThat(dead.state()).isEqualTo(State.DEAD);
    assertThat(dead.death().reason()).isEqualTo(Reason.PROCESS_DIED);
    assertThat(dead.death().message())
        .contains("demo.Counter", "'counter'", e.id().hex(), OTHER_NODE.hex())
        .contains("exit code 137", "no restarts left");
  }

  @Test
  void unlimitedRestartsNeverRunOut() {
    ActorEntry e = alive(spec("", ActorLifetime.OWNED, -1), NODE);
    for (int i = 1; i <= 20; i++) {
      WorkerId worker = table.get(e.id()).orElseThrow().address().workerId();
      assertThat(table.workerDied(e.id(), worker, NODE, "").orElseThrow().entry().state())
          .isEqualTo(State.RESTARTING);
      table.created(e.id(), i, address(NODE));
    }
    assertThat(table.get(e.id()).orElseThrow().numRestarts()).isEqualTo(20);
  }

  @Test
  void staleWorkerDeathIsIgnored() {
    ActorEntry e = alive(spec("", ActorLifetime.OWNED, 5), NODE);
    WorkerId first = e.address().workerId();
    table.workerDied(e.id(), first, NODE, "");
    // The same death reported again while restarting does not count twice.
    Update repeated = table.workerDied(e.id(), first, NODE, "").orElseThrow();
    assertThat(repeated.changed()).isFalse();
    assertThat(repeated.entry().numRestarts()).isEqualTo(1);
    table.created(e.id(), 1, address(NODE));
    // Nor once the next instance is alive elsewhere, nor a worker that never hosted it.
    assertThat(table.workerDied(e.id(), first, NODE, "").orElseThrow().changed()).isFalse();
    assertThat(table.workerDied(e.id(), WorkerId.random(), NODE, "").orElseThrow().changed())
        .isFalse();
    assertThat(table.get(e.id()).orElseThrow().state()).isEqualTo(State.ALIVE);
  }

  @Test
  void workerDeathWhilePendingCountsForTheInstanceBeingCreated() {
    ActorEntry withRestart = registered(spec("", ActorLifetime.OWNED, 1));
    ActorEntry restarting =
        table.workerDied(withRestart.id(), WorkerId.random(), NODE, "").orElseThrow().entry();
    assertThat(restarting.state()).isEqualTo(State.RESTARTING);
    assertThat(restarting.numRestarts()).isEqualTo(1);

    ActorEntry without = registered(spec("", ActorLifetime.OWNED, 0));
    ActorEntry dead =
        table.workerDied(without.id(), WorkerId.random(), OTHER_NODE, "oom").orElseThrow().entry();
    assertThat(dead.death().reason()).isEqualTo(Reason.PROCESS_DIED);
    assertThat(dead.death().message()).contains("being created", OTHER_NODE.hex(), "oom");
  }

  @Test
  void killIsFinalEvenWithRestartsLeft() {
    ActorEntry e = alive(spec("counter", ActorLifetime.OWNED, -1), OTHER_NODE);
    Update killed = table.kill(e.id()).orElseThrow();
    assertThat(killed.changed()).isTrue();
    assertThat(killed.entry().death().reason()).isEqualTo(Reason.KILLED);
    assertThat(killed.entry().death().message())
        .contains("demo.Counter", "'counter'", e.id().hex(), OTHER_NODE.hex(), "killed");
    // The worker to tell to exit.
    assertThat(killed.entry().address()).isEqualTo(e.address());
    assertThat(table.workerDied(e.id(), e.address().workerId(), NODE, "").orElseThrow().changed())
        .isFalse();
    assertThat(table.created(e.id(), 1, address(NODE)).orElseThrow().changed()).isFalse();
    Update again = table.kill(e.id()).orElseThrow();
    assertThat(again).isEqualTo(new Update(killed.entry(), false));
  }

  @Test
  void killOfAPendingActorIsFinal() {
    ActorEntry e = registered(spec("", ActorLifetime.DETACHED, 3));
    assertThat(table.kill(e.id()).orElseThrow().entry().state()).isEqualTo(State.DEAD);
    assertThat(table.created(e.id(), 0, address(NODE)).orElseThrow().changed()).isFalse();
  }

  @Test
  void ownedActorDiesWithItsJob() {
    ActorEntry alive = alive(spec("a", ActorLifetime.OWNED, 3), NODE);
    ActorEntry pending = registered(spec("b", ActorLifetime.OWNED, 3));
    ActorEntry otherJob =
        registered(
            ActorEntry.pending(
                newId(JobId.of(8)), "", "demo.Other", driver, ActorLifetime.OWNED, 0, 0, 1));
    List<ActorEntry> changed = table.jobFinished(JOB);
    assertThat(changed).extracting(ActorEntry::id).containsExactly(alive.id(), pending.id());
    for (ActorEntry e : changed) {
      assertThat(e.death().reason()).isEqualTo(Reason.OWNER_DIED);
      assertThat(e.death().message()).contains(e.id().hex(), JOB.hex(), "finished");
    }
    assertThat(table.get(otherJob.id()).orElseThrow().state()).isEqualTo(State.PENDING);
  }

  @Test
  void ownedActorDiesWithItsOwnerProcess() {
    ActorEntry mine = alive(spec("", ActorLifetime.OWNED, 3), OTHER_NODE);
    WorkerAddress otherOwner = address(NODE);
    ActorEntry theirs =
        registered(
            ActorEntry.pending(
                newId(JOB), "", "demo.Other", otherOwner, ActorLifetime.OWNED, 0, 0, 1));
    List<ActorEntry> changed = table.ownerDied(driver.workerId());
    assertThat(changed).extracting(ActorEntry::id).containsExactly(mine.id());
    ActorEntry dead = changed.get(0);
    assertThat(dead.death().reason()).isEqualTo(Reason.OWNER_DIED);
    assertThat(dead.death().message())
        .contains("demo.Counter", mine.id().hex(), OTHER_NODE.hex(), driver.workerId().hex());
    assertThat(dead.address()).isEqualTo(mine.address());
    assertThat(table.get(theirs.id()).orElseThrow().state()).isEqualTo(State.PENDING);
  }

  @Test
  void detachedActorSurvivesItsJob() {
    ActorEntry e = alive(spec("service", ActorLifetime.DETACHED, 3), NODE);
    assertThat(table.jobFinished(JOB)).isEmpty();
    assertThat(table.ownerDied(driver.workerId())).isEmpty();
    assertThat(table.get(e.id())).contains(e);
    assertThat(table.getByName("service")).contains(e);
  }

  @Test
  void detachedActorWhoseCreatorIsGoneCannotRestart() {
    ActorEntry e = alive(spec("service", ActorLifetime.DETACHED, 3), OTHER_NODE);
    table.jobFinished(JOB);
    ActorEntry dead =
        table
            .workerDied(e.id(), e.address().workerId(), OTHER_NODE, "exit code 1")
            .orElseThrow()
            .entry();
    assertThat(dead.state()).isEqualTo(State.DEAD);
    assertThat(dead.death().reason()).isEqualTo(Reason.PROCESS_DIED);
    assertThat(dead.death().message())
        .contains("'service'", OTHER_NODE.hex(), "exit code 1", "creator", "is gone");
  }

  @Test
  void detachedActorNotYetCreatedWhenItsCreatorGoesIsDead() {
    ActorEntry pending = registered(spec("", ActorLifetime.DETACHED, 3));
    ActorEntry restarting = alive(spec("", ActorLifetime.DETACHED, 3), NODE);
    table.workerDied(restarting.id(), restarting.address().workerId(), NODE, "");
    List<ActorEntry> changed = table.ownerDied(driver.workerId());
    assertThat(changed).extracting(ActorEntry::id).containsExactly(pending.id(), restarting.id());
    assertThat(changed.get(0).death().reason()).isEqualTo(Reason.CREATION_FAILED);
    assertThat(changed.get(1).death().reason()).isEqualTo(Reason.PROCESS_DIED);
  }

  /** A table that records the instances it hands to the head to construct. */
  private final List<ActorEntry> headStarts = new ArrayList<>();

  private final ActorTable withHead = new ActorTable(ActorTable.DEFAULT_DEAD_KEPT, headStarts::add);

  private ActorEntry aliveWithSpecAtHead(ActorLifetime lifetime, int maxRestarts) {
    ActorEntry spec = spec("kept", lifetime, maxRestarts);
    withHead.register(spec, true);
    return withHead.created(spec.id(), 0, address(NODE)).orElseThrow().entry();
  }

  @Test
  void detachedActorWhoseCreatorIsGoneIsRestartedByTheHeadWhileRestartsAreLeft() {
    ActorEntry e = aliveWithSpecAtHead(ActorLifetime.DETACHED, 1);
    withHead.jobFinished(JOB);
    assertThat(headStarts).as("nothing to construct while it is alive").isEmpty();

    ActorEntry restarting =
        withHead
            .workerDied(e.id(), e.address().workerId(), NODE, "exit code 1")
            .orElseThrow()
            .entry();
    assertThat(restarting.state()).isEqualTo(State.RESTARTING);
    assertThat(restarting.numRestarts()).isEqualTo(1);
    assertThat(headStarts).as("the head constructs instance 1").containsExactly(restarting);

    // While the head constructs, only the worker it placed the instance on counts.
    WorkerAddress placed = address(OTHER_NODE);
    assertThat(withHead.workerDied(e.id(), WorkerId.random(), NODE, "").orElseThrow().changed())
        .as("a worker the head did not place")
        .isFalse();
    withHead.placed(e.id(), 1, placed.workerId());
    ActorEntry alive = withHead.created(e.id(), 1, placed).orElseThrow().entry();
    assertThat(alive.state()).isEqualTo(State.ALIVE);
    assertThat(alive.name()).isEqualTo("kept");
    assertThat(withHead.getByName("kept")).contains(alive);

    ActorEntry dead =
        withHead.workerDied(e.id(), placed.workerId(), OTHER_NODE, "").orElseThrow().entry();
    assertThat(dead.death().reason()).isEqualTo(Reason.PROCESS_DIED);
    assertThat(dead.death().message()).contains("no restarts left");
    assertThat(headStarts).hasSize(1);
  }

  @Test
  void theHeadTakesOverARestartWhoseCreatorWentMidway() {
    ActorEntry e = aliveWithSpecAtHead(ActorLifetime.DETACHED, 2);
    withHead.workerDied(e.id(), e.address().workerId(), NODE, "");
    assertThat(headStarts).as("its creator lives and restarts it").isEmpty();

    withHead.ownerDied(driver.workerId());
    assertThat(headStarts).extracting(ActorEntry::numRestarts).containsExactly(1);
    // The gone creator's own attempt exits with it: not a death of the head's instance.
    assertThat(withHead.workerDied(e.id(), WorkerId.random(), NODE, "").orElseThrow().changed())
        .isFalse();
    assertThat(withHead.get(e.id()).orElseThrow().state()).isEqualTo(State.RESTARTING);
  }

  @Test
  void withoutASpecAtTheHeadOrWhenOwnedNothingIsHandedToTheHead() {
    ActorEntry owned = aliveWithSpecAtHead(ActorLifetime.OWNED, 3);
    ActorEntry noSpec = spec("", ActorLifetime.DETACHED, 3);
    withHead.register(noSpec, false);
    WorkerAddress at = address(NODE);
    withHead.created(noSpec.id(), 0, at);

    withHead.jobFinished(JOB);
    assertThat(withHead.get(owned.id()).orElseThrow().death().reason())
        .isEqualTo(Reason.OWNER_DIED);
    ActorEntry dead =
        withHead.workerDied(noSpec.id(), at.workerId(), NODE, "").orElseThrow().entry();
    assertThat(dead.death().message()).contains("creator", "is gone");
    assertThat(headStarts).isEmpty();
  }

  @Test
  void registrationAfterItsCreatorWentIsDeadAtOnce() {
    table.ownerDied(driver.workerId());
    ActorEntry owned = registered(spec("a", ActorLifetime.OWNED, 3));
    assertThat(owned.death().reason()).isEqualTo(Reason.OWNER_DIED);
    assertThat(table.getByName("a")).isEmpty();

    table.jobFinished(JobId.of(9));
    ActorEntry ofFinishedJob =
        registered(
            ActorEntry.pending(
                newId(JobId.of(9)), "", "demo.C", address(NODE), ActorLifetime.OWNED, 0, 0, 1));
    assertThat(ofFinishedJob.death().reason()).isEqualTo(Reason.OWNER_DIED);
  }

  @Test
  void nodeDeathEndsActorsCreatedThereAndCountsDeathsOfActorsRunningThere() {
    // Created on NODE (the driver's), running on OTHER_NODE: dies with its owner.
    ActorEntry ownedHere = alive(spec("", ActorLifetime.OWNED, 3), OTHER_NODE);
    // Created elsewhere, running on NODE: its worker died with the node; it restarts.
    WorkerAddress remoteOwner = address(OTHER_NODE);
    ActorEntry runningHere =
        alive(
            ActorEntry.pending(newId(JOB), "", "demo.C", remoteOwner, ActorLifetime.OWNED, 3, 0, 1),
            NODE);
    List<ActorEntry> changed = table.nodeDied(NODE, "node missed its heartbeats");
    assertThat(changed)
        .extracting(ActorEntry::id, ActorEntry::state)
        .containsExactly(
            tuple(ownedHere.id(), State.DEAD), tuple(runningHere.id(), State.RESTARTING));
  }

  @Test
  void deadEntriesAreKeptUpToTheBound() {
    ActorTable small = new ActorTable(2);
    List<ActorId> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ActorEntry spec = spec("", ActorLifetime.OWNED, 0);
      small.register(spec);
      small.kill(spec.id());
      ids.add(spec.id());
    }
    ActorEntry live = spec("", ActorLifetime.OWNED, 0);
    small.register(live);
    assertThat(small.get(ids.get(0))).isEmpty();
    assertThat(small.get(ids.get(1)).orElseThrow().death().reason()).isEqualTo(Reason.KILLED);
    assertThat(small.list())
        .extracting(ActorEntry::id)
        .containsExactly(ids.get(1), ids.get(2), live.id());
  }

  @Test
  void watcherSeesEveryStateOnceInOrder() {
    ActorEntry spec = spec("", ActorLifetime.OWNED, 1);
    registered(spec);
    List<ActorEntry> seen = Collections.synchronizedList(new ArrayList<>());
    ActorWatch watch = table.watch(spec.id(), seen::add).orElseThrow();
    WorkerAddress first = address(NODE);
    table.created(spec.id(), 0, first);
    table.created(spec.id(), 0, first); // repeated: no change
    table.workerDied(spec.id(), first.workerId(), NODE, "");
    table.created(spec.id(), 1, address(NODE));
    table.kill(spec.id());
    table.kill(spec.id());
    assertThat(seen)
        .extracting(ActorEntry::state)
        .containsExactly(State.PENDING, State.ALIVE, State.RESTARTING, State.ALIVE, State.DEAD);
    assertThat(seen).extracting(ActorEntry::version).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(watch.isCancelled()).isFalse();
  }

  @Test
  void watchOfADeadActorDeliversItsDeathOnly() {
    ActorEntry e = registered(spec("", ActorLifetime.OWNED, 0));
    ActorEntry dead = table.kill(e.id()).orElseThrow().entry();
    List<ActorEntry> seen = new ArrayList<>();
    table.watch(e.id(), seen::add);
    assertThat(seen).containsExactly(dead);
  }

  @Test
  void cancelledWatchGetsNothingMore() {
    ActorEntry e = registered(spec("", ActorLifetime.OWNED, 0));
    List<ActorEntry> seen = new ArrayList<>();
    ActorWatch watch = table.watch(e.id(), seen::add).orElseThrow();
    watch.cancel();
    table.created(e.id(), 0, address(NODE));
    assertThat(seen).extracting(ActorEntry::state).containsExactly(State.PENDING);
  }

  @Test
  void aFailingListenerIsCancelledAndOthersStillHear() {
    ActorEntry e = registered(spec("", ActorLifetime.OWNED, 0));
    ActorWatch failing =
        table
            .watch(
                e.id(),
                entry -> {
                  if (entry.state() == State.ALIVE) {
                    throw new IllegalStateException("stream closed");
                  }
                })
            .orElseThrow();
    List<State> seen = new ArrayList<>();
    table.watch(e.id(), entry -> seen.add(entry.state()));
    table.created(e.id(), 0, address(NODE));
    table.kill(e.id());
    assertThat(failing.isCancelled()).isTrue();
    assertThat(seen).containsExactly(State.PENDING, State.ALIVE, State.DEAD);
  }

  @Test
  void listenersAreNotCalledUnderTheTableLock() {
    ActorEntry e = registered(spec("", ActorLifetime.OWNED, 0));
    AtomicBoolean otherThreadGotIn = new AtomicBoolean();
    table.watch(
        e.id(),
        entry -> {
          // Another thread must be able to use the table while this listener runs.
          otherThreadGotIn.set(
              CompletableFuture.supplyAsync(table::list).orTimeout(30, TimeUnit.SECONDS).join()
                  != null);
        });
    table.created(e.id(), 0, address(NODE));
    assertThat(otherThreadGotIn).isTrue();
  }

  @Test
  void concurrentUpdatesKeepEveryWatcherInVersionOrder() throws Exception {
    ActorEntry spec = spec("", ActorLifetime.OWNED, -1);
    registered(spec);
    ActorId id = spec.id();
    int watcherCount = 6;
    List<List<ActorEntry>> seen = new ArrayList<>();
    AtomicInteger overlapping = new AtomicInteger();
    AtomicInteger maxOverlap = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < watcherCount; w++) {
      List<ActorEntry> mine = Collections.synchronizedList(new ArrayList<>());
      seen.add(mine);
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    await(start);
                    table.watch(
                        id,
                        entry -> {
                          maxOverlap.accumulateAndGet(overlapping.incrementAndGet(), Math::max);
                          mine.add(entry);
                          Thread.yield();
                          overlapping.decrementAndGet();
                        });
                  }));
    }
    for (int t = 0; t < 4; t++) {
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    await(start);
                    for (int i = 0; i < 2_000; i++) {
                      ActorEntry now = table.get(id).orElseThrow();
                      if (now.state() == State.ALIVE) {
                        table.workerDied(id, now.address().workerId(), NODE, "stress");
                      } else {
                        table.created(id, now.numRestarts(), address(NODE));
                      }
                    }
                  }));
    }
    start.countDown();
    for (Thread thread : threads) {
      thread.join(TimeUnit.MINUTES.toMillis(2));
      assertThat(thread.isAlive()).isFalse();
    }
    ActorEntry dead = table.kill(id).orElseThrow().entry();
    assertThat(dead.version()).isGreaterThan(100);
    assertThat(maxOverlap).hasValue(1);
    for (List<ActorEntry> mine : seen) {
      assertThat(mine).isNotEmpty();
      for (int i = 1; i < mine.size(); i++) {
        assertThat(mine.get(i).version()).isEqualTo(mine.get(i - 1).version() + 1);
      }
      assertThat(mine.getLast()).isEqualTo(dead);
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(1, TimeUnit.MINUTES)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
