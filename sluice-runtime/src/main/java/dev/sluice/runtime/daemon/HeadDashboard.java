package dev.sluice.runtime.daemon;

import dev.sluice.runtime.dashboard.ControlStateClient;
import dev.sluice.runtime.dashboard.DashboardServer;
import dev.sluice.runtime.rpc.RpcFactory;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A head daemon's dashboard, or why it has none: starts the {@link DashboardServer} its {@link
 * DashboardSettings} ask for, reading the cluster through the head's own control service. An
 * optional dashboard whose port is taken leaves the head running without one (the reason goes to
 * the ready file and the log); a required one fails the head. Immutable once started.
 *
 * @param server the running dashboard, or null
 * @param problem why there is none although one was asked for, or null
 */
record HeadDashboard(DashboardServer server, String problem) implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HeadDashboard.class);

  static final HeadDashboard NONE = new HeadDashboard(null, null);

  static HeadDashboard start(
      DashboardSettings settings, RpcFactory rpc, String controlTarget, String token)
      throws IOException {
    if (!settings.enabled()) {
      return NONE;
    }
    try {
      ControlStateClient state = new ControlStateClient(rpc, controlTarget);
      return new HeadDashboard(
          DashboardServer.start(settings.host(), settings.port(), token, state.state(), rpc, state),
          null);
    } catch (IOException e) {
      if (!settings.optional()) {
        throw e;
      }
      log.warn("head runs without a dashboard: {}", e.getMessage());
      return new HeadDashboard(null, e.getMessage());
    }
  }

  /** The dashboard's address without the token, or null. */
  String url() {
    return server == null ? null : server.url();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
  }
}
