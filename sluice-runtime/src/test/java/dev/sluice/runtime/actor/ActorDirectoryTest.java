package dev.sluice.runtime.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.sluice.ActorDiedException;
import dev.sluice.ActorId;
import dev.sluice.runtime.common.Errors;
import dev.sluice.runtime.rpc.proto.ActorInfo;
import dev.sluice.runtime.rpc.proto.ActorState;
import dev.sluice.runtime.rpc.proto.RegisterActorRequest;
import dev.sluice.runtime.rpc.proto.UpdateActorRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * This process's view of the actor table (DESIGN "Actors"): followers see the latest entry and then
 * every newer one, in version order; a watch that ends early is opened again until the actor is
 * dead; an actor the table does not know is dead; a dead actor's entry and watch are dropped once
 * nobody here follows it.
 */
class ActorDirectoryTest {
  private static final ActorId ACTOR = actorId((byte) 7);

  private final FakeTable table = new FakeTable();
  private final ManualScheduler timers = new ManualScheduler();
  private final ActorDirectory directory = new ActorDirectory(table, timers);

  private static ActorId actorId(byte b) {
    byte[] bytes = new byte[ActorId.LENGTH];
    Arrays.fill(bytes, b);
    return ActorId.fromBytes(bytes);
  }

  private static ActorInfo entry(ActorState state, long version) {
    ActorInfo.Builder b =
        ActorInfo.newBuilder()
            .setActorId(ByteString.copyFrom(ACTOR.toBytes()))
            .setClassName("Counter")
            .setState(state)
            .setVersion(version);
    if (state == ActorState.ACTOR_STATE_DEAD) {
      b.setDeathCause(
          Errors.actorDied(ActorDiedException.Reason.KILLED, "actor Counter was killed", null));
    }
    return b.build();
  }

  /** A follower that records what it is told. */
  private static final class Follower implements Consumer<ActorInfo> {
    final List<ActorInfo> seen = new CopyOnWriteArrayList<>();

    @Override
    public void accept(ActorInfo info) {
      seen.add(info);
    }

    List<Long> versions() {
      return seen.stream().map(ActorInfo::getVersion).toList();
    }
  }

  /** The table's watches as the test drives them; other calls are not used here. */
  private static final class FakeTable implements ActorTableClient {
    final List<Consumer<ActorInfo>> watches = new ArrayList<>();
    final List<Consumer<Throwable>> ends = new ArrayList<>();

    final List<Integer> cancelled = new ArrayList<>();
    int gets;

    @Override
    public Runnable watch(ActorId id, Consumer<ActorInfo> onInfo, Consumer<Throwable> onEnd) {
      int index = watches.size();
      watches.add(onInfo);
      ends.add(onEnd);
      return () -> cancelled.add(index);
    }

    void emit(ActorInfo info) {
      watches.getLast().accept(info);
    }

    void end(Throwable why) {
      ends.getLast().accept(why);
    }

    @Override
    public Optional<ActorInfo> register(RegisterActorRequest request) {
      throw new UnsupportedOperationException();
    }

    @Override
    public ActorInfo update(UpdateActorRequest update) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<ActorInfo> get(ActorId id) {
      gets++;
      return Optional.empty();
    }

    @Override
    public Optional<ActorInfo> getByName(String name) {
      throw new UnsupportedOperationException();
    }

    @Override
    public ActorInfo kill(ActorId id) {
      throw new UnsupportedOperationException();
    }
  }

  @Test
  void followersGetTheLatestEntryThenEveryNewerOneInOrder() {
    Follower first = new Follower();
    directory.follow(ACTOR, first);
    assertThat(table.watches).as("one watch for the actor").hasSize(1);
    table.emit(entry(ActorState.ACTOR_STATE_PENDING, 1));
    table.emit(entry(ActorState.ACTOR_STATE_ALIVE, 2));

    Follower second = new Follower();
    directory.follow(ACTOR, second);
    assertThat(table.watches).as("a second follower shares the watch").hasSize(1);
    assertThat(second.versions()).as("the latest entry at once").containsExactly(2L);

    table.emit(entry(ActorState.ACTOR_STATE_RESTARTING, 3));
    table.emit(entry(ActorState.ACTOR_STATE_DEAD, 4));
    assertThat(first.versions()).containsExactly(1L, 2L, 3L, 4L);
    assertThat(second.versions()).containsExactly(2L, 3L, 4L);
    assertThat(directory.get(ACTOR))
        .hasValueSatisfying(i -> assertThat(i.getVersion()).isEqualTo(4));
  }

  /**
   * A new follower must not get an older entry after a newer one: here the newer entry arrives
   * while the follower is being added (from inside the delivery under way, standing in for a
   * transport thread that gets there first).
   */
  @Test
  void aFollowerAddedDuringADeliveryStillSeesVersionsInOrder() throws Exception {
    Follower late = new Follower();
    Thread[] adding = new Thread[1];
    directory.follow(
        ACTOR,
        info -> {
          if (info.getVersion() == 1) {
            adding[0] = Thread.ofPlatform().start(() -> directory.follow(ACTOR, late));
            await()
                .atMost(Duration.ofSeconds(30))
                .until(
                    () ->
                        adding[0].getState() == Thread.State.BLOCKED
                            || adding[0].getState() == Thread.State.TERMINATED);
            directory.learn(entry(ActorState.ACTOR_STATE_ALIVE, 2));
          }
        });
    table.emit(entry(ActorState.ACTOR_STATE_PENDING, 1));
    adding[0].join(30_000);

    assertThat(late.versions()).isSorted().doesNotHaveDuplicates().endsWith(2L);
  }

  @Test
  void olderVersionsAreIgnored() {
    Follower f = new Follower();
    directory.follow(ACTOR, f);
    table.emit(entry(ActorState.ACTOR_STATE_ALIVE, 5));
    table.emit(entry(ActorState.ACTOR_STATE_PENDING, 3));
    table.emit(entry(ActorState.ACTOR_STATE_ALIVE, 5));
    directory.learn(entry(ActorState.ACTOR_STATE_RESTARTING, 4));

    assertThat(f.versions()).containsExactly(5L);
    assertThat(directory.get(ACTOR))
        .hasValueSatisfying(i -> assertThat(i.getState()).isEqualTo(ActorState.ACTOR_STATE_ALIVE));
  }

  @Test
  void aWatchThatEndsBeforeDeathIsOpenedAgain() {
    Follower f = new Follower();
    directory.follow(ACTOR, f);
    table.emit(entry(ActorState.ACTOR_STATE_ALIVE, 1));

    table.end(new IllegalStateException("actor watch ended before the actor died"));
    assertThat(table.watches).hasSize(1);
    assertThat(timers.numQueued()).as("watched again after a pause").isEqualTo(1);
    timers.runDue();
    assertThat(table.watches).hasSize(2);

    table.emit(entry(ActorState.ACTOR_STATE_ALIVE, 1)); // the new watch starts with the entry now
    table.emit(entry(ActorState.ACTOR_STATE_DEAD, 2));
    table.end(new IllegalStateException("stream reset")); // after death: nothing more to watch
    timers.runDue();
    assertThat(table.watches).hasSize(2);
    assertThat(f.versions()).containsExactly(1L, 2L);

    directory.follow(ACTOR, new Follower());
    assertThat(table.watches).as("a dead actor is not watched again").hasSize(2);
  }

  @Test
  void anUnknownActorIsDeadForItsFollowers() {
    Follower f = new Follower();
    directory.follow(ACTOR, f);
    table.end(new ActorTableClient.UnknownActorException("no actor " + ACTOR));

    assertThat(f.seen).hasSize(1);
    ActorInfo dead = f.seen.getFirst();
    assertThat(dead.getState()).isEqualTo(ActorState.ACTOR_STATE_DEAD);
    assertThat(Errors.actorDiedReason(dead.getDeathCause()))
        .isEqualTo(ActorDiedException.Reason.PROCESS_DIED);
    assertThat(dead.getDeathCause().getMessage()).contains(ACTOR.toString()).contains("not known");
    assertThat(timers.numQueued()).isZero();

    Follower later = new Follower();
    directory.follow(ACTOR, later);
    assertThat(later.seen).containsExactly(dead);
    assertThat(table.watches).hasSize(1);
  }

  @Test
  void learnFromAReplyReachesFollowers() {
    Follower f = new Follower();
    directory.follow(ACTOR, f);
    table.emit(entry(ActorState.ACTOR_STATE_ALIVE, 1));

    directory.learn(entry(ActorState.ACTOR_STATE_DEAD, 3)); // the reply to Sluice.kill
    table.emit(entry(ActorState.ACTOR_STATE_RESTARTING, 2)); // the watch is behind

    assertThat(f.versions()).containsExactly(1L, 3L);
    assertThat(f.seen.getLast().getState()).isEqualTo(ActorState.ACTOR_STATE_DEAD);
  }

  @Test
  void aDeadActorNobodyFollowsIsDroppedWithItsWatch() {
    Follower f = new Follower();
    Runnable unfollow = directory.follow(ACTOR, f);
    table.emit(entry(ActorState.ACTOR_STATE_ALIVE, 1));
    directory.learn(entry(ActorState.ACTOR_STATE_DEAD, 2)); // the reply to Sluice.kill

    assertThat(directory.knows(ACTOR)).as("kept while a follower needs it").isTrue();
    assertThat(table.cancelled).isEmpty();

    unfollow.run();
    assertThat(directory.knows(ACTOR)).as("dead and followed by nobody: dropped").isFalse();
    assertThat(table.cancelled).as("its watch ends with it").containsExactly(0);

    int gets = table.gets;
    assertThat(directory.get(ACTOR)).isEmpty();
    assertThat(table.gets).as("a later look-up asks the table again").isEqualTo(gets + 1);

    Follower later = new Follower();
    directory.follow(ACTOR, later);
    assertThat(table.watches).as("a new follower watches afresh").hasSize(2);
    table.emit(entry(ActorState.ACTOR_STATE_DEAD, 2));
    assertThat(later.versions()).containsExactly(2L);
  }

  @Test
  void aLiveActorIsKeptWhenItsFollowersStop() {
    Runnable unfollow = directory.follow(ACTOR, new Follower());
    table.emit(entry(ActorState.ACTOR_STATE_ALIVE, 1));
    unfollow.run();

    assertThat(directory.knows(ACTOR)).isTrue();
    assertThat(table.cancelled).isEmpty();
    table.emit(entry(ActorState.ACTOR_STATE_DEAD, 2));
    assertThat(directory.knows(ACTOR)).as("dropped once it dies").isFalse();
  }
}
