package dev.sluice.runtime.daemon;

import java.util.ArrayList;
import java.util.List;

/**
 * Whether and where a head serves its web dashboard (DESIGN "Dashboard"), as part of a {@link
 * DaemonConfig}. Immutable.
 *
 * @param port the dashboard's port (0: any free port; -1: no dashboard)
 * @param host the address it listens on: loopback unless opened on purpose
 * @param optional when the port cannot be bound, run without a dashboard (and say so) instead of
 *     failing the head: {@code sluice start --head} asks for the default port this way
 */
public record DashboardSettings(int port, String host, boolean optional) {
  /** The port {@code sluice start --head} serves the dashboard on unless told otherwise. */
  public static final int DEFAULT_PORT = 8265;

  /** Loopback: only this machine reaches the dashboard unless it is opened on purpose. */
  public static final String DEFAULT_HOST = "127.0.0.1";

  /** No dashboard. */
  public static final DashboardSettings OFF = new DashboardSettings(-1, DEFAULT_HOST, false);

  /** Whether a dashboard is served. */
  public boolean enabled() {
    return port >= 0;
  }

  /** The settings as {@link NodeDaemon} arguments (none when off). */
  List<String> toArgs() {
    List<String> a = new ArrayList<>();
    if (!enabled()) {
      return a;
    }
    a.addAll(List.of("--dashboard-port", Integer.toString(port), "--dashboard-host", host));
    if (optional) {
      a.add("--dashboard-optional");
    }
    return a;
  }
}
