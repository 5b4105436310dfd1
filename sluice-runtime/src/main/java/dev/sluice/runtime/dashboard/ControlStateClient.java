package dev.sluice.runtime.dashboard;

import dev.sluice.ClusterState;
import dev.sluice.runtime.rpc.RpcFactory;
import dev.sluice.runtime.state.StateClient;
import io.grpc.ManagedChannel;
import java.time.Duration;

/**
 * How a head's dashboard reads the cluster: the state API ({@link StateClient}) over a channel of
 * its own to the head's own control service, as any client of the cluster would (with the cluster's
 * token). Owns the channel. Thread-safe.
 */
public final class ControlStateClient implements AutoCloseable {
  private static final Duration DEADLINE = Duration.ofSeconds(5);

  private final ManagedChannel channel;
  private final ClusterState state;

  /** A client of the control service at {@code controlTarget}. */
  public ControlStateClient(RpcFactory rpc, String controlTarget) {
    this.channel = rpc.newChannel(controlTarget);
    this.state = new StateClient(channel, controlTarget, DEADLINE);
  }

  /** The cluster's state, as the control service answers it. */
  public ClusterState state() {
    return state;
  }

  @Override
  public void close() {
    RpcFactory.shutdownQuietly(channel);
  }
}
