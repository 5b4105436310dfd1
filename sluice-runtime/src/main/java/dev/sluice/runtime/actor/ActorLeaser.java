package dev.sluice.runtime.actor;

import dev.sluice.runtime.rpc.Addresses;
import dev.sluice.runtime.rpc.ChannelPool;
import dev.sluice.runtime.rpc.proto.LeaseReply;
import dev.sluice.runtime.rpc.proto.LeaseRequest;
import dev.sluice.runtime.rpc.proto.ReturnWorkerRequest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Leases a worker of its own for an actor (DESIGN "Actors", creation), by the same rules as a
 * task's lease: asked of the local node manager first, sent on to the node a redirect names (at
 * most {@link #MAX_REDIRECTS} times), and, when no node has the resources, asked again every second
 * for up to the unschedulable timeout in case a node joins.
 *
 * <p>Used by a creator's {@link ActorManager} and by the control service when it constructs a
 * detached actor itself ({@code control.HeadActorCreator}).
 *
 * <p>Threads: replies arrive on transport threads, retries on the timer thread.
 */
public final class ActorLeaser {
  static final int MAX_REDIRECTS = 4;
  private static final long INFEASIBLE_RETRY_MILLIS = 1000;

  /** The node managers' lease calls; a seam for tests. */
  interface NodeLeases {
    void request(String target, LeaseRequest request, Consumer<LeaseReply> reply);

    void returnWorker(String target, ReturnWorkerRequest request);
  }

  /**
   * A granted lease and the node manager that granted it.
   *
   * @param reply the node manager's grant
   * @param grantedBy the node manager's target
   */
  public record Granted(LeaseReply reply, String grantedBy) {}

  /** The lease could not be granted; the message says why. */
  static final class LeaseFailed extends RuntimeException {
    final boolean infeasible;

    LeaseFailed(String message, boolean infeasible) {
      super(message);
      this.infeasible = infeasible;
    }
  }

  private final NodeLeases nodes;
  private final String localNodeManager;
  private final ScheduledExecutorService timers;
  private final Duration unschedulableTimeout;

  ActorLeaser(
      NodeLeases nodes,
      String localNodeManager,
      ScheduledExecutorService timers,
      Duration unschedulableTimeout) {
    this.nodes = nodes;
    this.localNodeManager = localNodeManager;
    this.timers = timers;
    this.unschedulableTimeout = unschedulableTimeout;
  }

  /**
   * A leaser over the node managers' gRPC service, asking {@code firstNodeManager} first (null: a
   * node manager must be named on each {@link #lease(LeaseRequest, String)}).
   */
  public static ActorLeaser overGrpc(
      ChannelPool channels,
      String firstNodeManager,
      ScheduledExecutorService timers,
      Duration unschedulableTimeout) {
    return new ActorLeaser(
        new ActorLeaseClient(channels), firstNodeManager, timers, unschedulableTimeout);
  }

  /** Leases a worker for {@code request}; fails with {@link LeaseFailed}. */
  CompletableFuture<Granted> lease(LeaseRequest request) {
    return lease(request, localNodeManager);
  }

  /**
   * Leases a worker for {@code request}, asking node manager {@code first} first (and again while
   * no node has the resources); fails with an exception whose message says why.
   */
  public CompletableFuture<Granted> lease(LeaseRequest request, String first) {
    CompletableFuture<Granted> out = new CompletableFuture<>();
    ask(request, first, first, 0, System.nanoTime(), out);
    return out;
  }

  /** Gives a lease back; the node manager stops the actor's worker. */
  public void giveBack(Granted lease, String why) {
    nodes.returnWorker(
        lease.grantedBy(),
        ReturnWorkerRequest.newBuilder()
            .setLeaseId(lease.reply().getLeaseId())
            .setDisconnectWorker(true)
            .setKillReason(why)
            .build());
  }

  private void ask(
      LeaseRequest request,
      String first,
      String target,
      int redirects,
      long startNanos,
      CompletableFuture<Granted> out) {
    nodes.request(
        target,
        request.toBuilder().setSpillbackCount(redirects).build(),
        reply -> {
          if (reply.hasSpillback()) {
            if (redirects < MAX_REDIRECTS) {
              ask(
                  request,
                  first,
                  Addresses.target(reply.getSpillback()),
                  redirects + 1,
                  startNanos,
                  out);
            } else {
              out.completeExceptionally(
                  new LeaseFailed(
                      "no node granted a worker: the lease request was sent on "
                          + MAX_REDIRECTS
                          + " times between nodes",
                      true));
            }
            return;
          }
          if (reply.getInfeasible()
              && System.nanoTime() - startNanos < unschedulableTimeout.toNanos()) {
            try {
              timers.schedule(
                  () -> ask(request, first, first, 0, startNanos, out),
                  INFEASIBLE_RETRY_MILLIS,
                  TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
              out.completeExceptionally(new LeaseFailed("the process is stopping", false));
            }
            return;
          }
          if (reply.getRejected() || reply.getCancelled()) {
            out.completeExceptionally(
                new LeaseFailed(reply.getFailureMessage(), reply.getInfeasible()));
            return;
          }
          out.complete(new Granted(reply, target));
        });
  }
}
