package dev.sluice.runtime.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.sluice.runtime.rpc.proto.Address;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.ReturnWorkerRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Leasing a worker for an actor (DESIGN "Actors", creation) against fake node managers: redirects
 * are followed a bounded number of times, an infeasible request is asked again until the
 * unschedulable timeout, and a rejection fails the lease.
 */
class ActorLeaserTest {
  private static final String LOCAL = "local:1";
  private static final LeaseRequest REQUEST =
      LeaseRequest.newBuilder()
          .setLeaseRequestId(ByteString.copyFromUtf8("actor-lease"))
          .setDisplayName("actor Counter")
          .putResources("GPU", 1.0)
          .build();

  private final ManualScheduler timers = new ManualScheduler();
  private final List<String> targets = new CopyOnWriteArrayList<>();
  private final List<LeaseRequest> requests = new CopyOnWriteArrayList<>();
  private final List<ReturnWorkerRequest> returned = new CopyOnWriteArrayList<>();
  private final List<String> returnedTo = new CopyOnWriteArrayList<>();

  /** Node managers that answer request number {@code i} (from 0) sent to {@code target}. */
  private ActorLeaser leaser(
      Duration unschedulableTimeout, BiFunction<Integer, String, LeaseReply> answer) {
    ActorLeaser.NodeLeases nodes =
        new ActorLeaser.NodeLeases() {
          @Override
          public void request(String target, LeaseRequest request, Consumer<LeaseReply> reply) {
            int i = requests.size();
            targets.add(target);
            requests.add(request);
            reply.accept(answer.apply(i, target));
          }

          @Override
          public void returnWorker(String target, ReturnWorkerRequest request) {
            returnedTo.add(target);
            returned.add(request);
          }
        };
    return new ActorLeaser(nodes, LOCAL, timers, unschedulableTimeout);
  }

  private static LeaseReply spillbackTo(String host) {
    return LeaseReply.newBuilder()
        .setSpillback(Address.newBuilder().setHost(host).setPort(1))
        .build();
  }

  private static LeaseReply granted(String lease) {
    return LeaseReply.newBuilder()
        .setLeaseId(ByteString.copyFromUtf8(lease))
        .setWorker(Address.newBuilder().setHost("worker").setPort(2))
        .build();
  }

  private static LeaseReply infeasible() {
    return LeaseReply.newBuilder()
        .setRejected(true)
        .setInfeasible(true)
        .setFailureMessage("no node of the cluster has {GPU=1.0} in total")
        .build();
  }

  private static ActorLeaser.LeaseFailed failure(CompletableFuture<?> f) {
    assertThat(f).isCompletedExceptionally();
    try {
      f.get();
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(ActorLeaser.LeaseFailed.class);
      return (ActorLeaser.LeaseFailed) e.getCause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("not failed");
  }

  @Test
  void redirectsAreFollowedUpToTheLimit() {
    CompletableFuture<ActorLeaser.Granted> lease =
        leaser(Duration.ZERO, (i, target) -> spillbackTo("node" + (i + 1))).lease(REQUEST);

    assertThat(targets)
        .containsExactly(LOCAL, "node1:1", "node2:1", "node3:1", "node4:1")
        .hasSize(1 + ActorLeaser.MAX_REDIRECTS);
    assertThat(requests.stream().map(LeaseRequest::getSpillbackCount))
        .as("each node is told how often the request was sent on")
        .containsExactly(0, 1, 2, 3, 4);
    ActorLeaser.LeaseFailed why = failure(lease);
    assertThat(why.getMessage()).contains("sent on " + ActorLeaser.MAX_REDIRECTS + " times");
  }

  @Test
  void aRedirectIsGrantedWhereItLands() throws Exception {
    CompletableFuture<ActorLeaser.Granted> lease =
        leaser(Duration.ZERO, (i, target) -> i < 2 ? spillbackTo("node" + (i + 1)) : granted("L"))
            .lease(REQUEST);

    ActorLeaser.Granted g = lease.get();
    assertThat(g.grantedBy()).as("returned to the node that granted it").isEqualTo("node2:1");
    assertThat(g.reply().getLeaseId().toStringUtf8()).isEqualTo("L");
  }

  @Test
  void anInfeasibleRequestIsAskedAgainUntilTheTimeout() {
    Duration timeout = Duration.ofMillis(300);
    long start = System.nanoTime();
    CompletableFuture<ActorLeaser.Granted> lease =
        leaser(timeout, (i, target) -> infeasible()).lease(REQUEST);

    assertThat(lease).isNotDone();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              timers.runDue();
              return lease.isDone();
            });

    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(timeout.toNanos());
    assertThat(requests.size()).isGreaterThan(1);
    assertThat(targets).as("asked of the local node manager each time").containsOnly(LOCAL);
    assertThat(timers.delaysMillis()).as("once a second").containsOnly(1000L);
    ActorLeaser.LeaseFailed why = failure(lease);
    assertThat(why.infeasible).isTrue();
    assertThat(why.getMessage()).contains("{GPU=1.0}");
  }

  @Test
  void anInfeasibleRequestIsGrantedOnceANodeJoins() throws Exception {
    CompletableFuture<ActorLeaser.Granted> lease =
        leaser(Duration.ofSeconds(60), (i, target) -> i < 2 ? infeasible() : granted("L"))
            .lease(REQUEST);

    timers.runDue();
    assertThat(lease).isNotDone();
    timers.runDue();
    assertThat(lease.get().reply().getLeaseId().toStringUtf8()).isEqualTo("L");
    assertThat(requests).hasSize(3);
  }

  @Test
  void aRejectionFailsTheLease() {
    CompletableFuture<ActorLeaser.Granted> lease =
        leaser(
                Duration.ofSeconds(60),
                (i, target) ->
                    LeaseReply.newBuilder()
                        .setRejected(true)
                        .setFailureMessage("node manager at " + target + " unreachable")
                        .build())
            .lease(REQUEST);

    ActorLeaser.LeaseFailed why = failure(lease);
    assertThat(why.infeasible).isFalse();
    assertThat(why.getMessage()).isEqualTo("node manager at local:1 unreachable");
    assertThat(timers.numQueued()).as("a rejection is not asked again").isZero();
    assertThat(requests).hasSize(1);
  }

  @Test
  void aLeaseGivenBackAsksItsNodeToStopTheWorker() throws Exception {
    ActorLeaser leaser =
        leaser(Duration.ZERO, (i, target) -> i == 0 ? spillbackTo("node1") : granted("L"));
    ActorLeaser.Granted g = leaser.lease(REQUEST).get();

    leaser.giveBack(g, "actor Counter is dead");
    assertThat(returnedTo).as("the node that granted it").containsExactly("node1:1");
    assertThat(returned).hasSize(1);
    assertThat(returned.getFirst().getLeaseId().toStringUtf8()).isEqualTo("L");
    assertThat(returned.getFirst().getDisconnectWorker()).isTrue();
    assertThat(returned.getFirst().getKillReason()).isEqualTo("actor Counter is dead");
  }
}
